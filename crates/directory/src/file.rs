//! The file directory (`kind = "file"`): users in a TOML file, for small sites and the demo.
//!
//! Implementation summary: the file mirrors an LDAP entry (`mail`, `aliases`, `name`,
//! `numbers`, `ums`, `attributes`). It is read when the instance starts and again whenever
//! its modification time changes, so an administrator's edit takes effect without a restart;
//! an edit that does not parse keeps the last good version and is reported (a broken file
//! never empties the directory). Numbers are normalised with the site's plan when loaded; a
//! number that does not normalise is reported and skipped, the user stays.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Deserialize;
use umsgate_domain::{PhoneNumber, SitePlan};

use super::{DirectoryError, ErrorKind, User};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    user: Vec<FileUser>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUser {
    mail: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    numbers: Vec<String>,
    #[serde(default)]
    ums: Option<String>,
    /// Portal login: an argon2 hash in PHC form; none = no login.
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Index {
    users: Vec<User>,
    /// `password_hash` of each user, by the index of `users`.
    hashes: Vec<Option<String>>,
    /// Lower-case address → user index.
    by_address: BTreeMap<String, usize>,
    /// E.164 → user indexes.
    by_number: BTreeMap<String, Vec<usize>>,
}

/// Users from a TOML file.
#[derive(Debug)]
pub struct FileDirectory {
    path: PathBuf,
    plan: SitePlan,
    state: Mutex<(Option<SystemTime>, Arc<Index>)>,
}

fn read(path: &Path, plan: &SitePlan) -> Result<(Index, Vec<String>), DirectoryError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        DirectoryError::with_source(
            ErrorKind::Config,
            format!("cannot read {}: {e}", path.display()),
            e,
        )
    })?;
    let file: UsersFile = toml::from_str(&text).map_err(|e| {
        DirectoryError::with_source(ErrorKind::BadData, format!("{}: {e}", path.display()), e)
    })?;
    let mut index = Index::default();
    let mut warnings = Vec::new();
    for u in file.user {
        let i = index.users.len();
        for a in std::iter::once(&u.mail).chain(&u.aliases) {
            if index.by_address.insert(a.to_ascii_lowercase(), i).is_some() {
                warnings.push(format!("address {a} is listed twice; the later user wins"));
            }
        }
        for n in &u.numbers {
            match plan.normalise(n) {
                Ok(p) => index.by_number.entry(p.e164()).or_default().push(i),
                Err(e) => warnings.push(format!("user {}: number `{n}` skipped: {e}", u.mail)),
            }
        }
        if let Some(h) = &u.password_hash
            && !h.starts_with("$argon2")
        {
            warnings.push(format!(
                "user {}: password_hash is not an argon2 hash ($argon2id$…): no login",
                u.mail
            ));
        }
        index.hashes.push(u.password_hash);
        index.users.push(User {
            id: u.mail.clone(),
            mail: u.mail,
            name: u.name,
            ums: u.ums,
            attributes: u.attributes,
        });
    }
    Ok((index, warnings))
}

impl FileDirectory {
    /// Loads the file; an unreadable or invalid file is an error at start.
    pub fn open(path: &Path, plan: SitePlan) -> Result<FileDirectory, DirectoryError> {
        let (index, warnings) = read(path, &plan)?;
        for w in warnings {
            tracing::warn!(event = "directory.file_warning", path = %path.display(), "{w}");
        }
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Ok(FileDirectory {
            path: path.to_owned(),
            plan,
            state: Mutex::new((mtime, Arc::new(index))),
        })
    }

    /// The current index, re-read if the file changed.
    fn index(&self) -> Result<Arc<Index>, DirectoryError> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| DirectoryError::new(ErrorKind::Internal, "directory lock poisoned"))?;
        let mtime = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        if mtime.is_some() && mtime != st.0 {
            match read(&self.path, &self.plan) {
                Ok((index, warnings)) => {
                    for w in warnings {
                        tracing::warn!(event = "directory.file_warning", path = %self.path.display(), "{w}");
                    }
                    tracing::info!(event = "directory.reloaded", path = %self.path.display(), users = index.users.len());
                    *st = (mtime, Arc::new(index));
                }
                Err(e) => {
                    tracing::error!(event = "directory.reload_failed", error = %e, "keeping the last good version");
                    st.0 = mtime;
                }
            }
        }
        Ok(Arc::clone(&st.1))
    }

    pub fn by_sender(&self, address: &str) -> Result<Option<User>, DirectoryError> {
        let index = self.index()?;
        Ok(index
            .by_address
            .get(&address.to_ascii_lowercase())
            .and_then(|i| index.users.get(*i))
            .cloned())
    }

    /// The user who logs in as `address` (primary address or alias) and his
    /// `password_hash`, if he has one.
    pub fn login_entry(
        &self,
        address: &str,
    ) -> Result<Option<(User, Option<String>)>, DirectoryError> {
        let index = self.index()?;
        Ok(index
            .by_address
            .get(&address.trim().to_ascii_lowercase())
            .and_then(|i| {
                let user = index.users.get(*i)?.clone();
                Some((user, index.hashes.get(*i).cloned().flatten()))
            }))
    }

    pub fn by_number(&self, number: &PhoneNumber) -> Result<Vec<User>, DirectoryError> {
        let index = self.index()?;
        Ok(index
            .by_number
            .get(&number.e164())
            .map(|v| {
                v.iter()
                    .filter_map(|i| index.users.get(*i).cloned())
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use umsgate_domain::SitePlanFields;

    fn plan() -> SitePlan {
        SitePlan::new(SitePlanFields {
            country_code: "49".into(),
            area_code: "8142".into(),
            subscriber: "4799".into(),
            extension_digits: 3,
            international_prefix: "00".into(),
            national_prefix: "0".into(),
            outside_line: String::new(),
        })
        .unwrap()
    }

    #[test]
    fn finds_senders_by_address_and_alias_and_users_by_number() {
        let dir = std::env::temp_dir().join(format!("umsgate-filedir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users.toml");
        std::fs::write(
            &path,
            r#"
[[user]]
mail = "jane@example.com"
aliases = ["J.Doe@example.com"]
numbers = ["+49 8142 4799123", "not a number"]
ums = "ums1;fax.rights=local"
password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"
attributes = { o = "Example Corp" }

[[user]]
mail = "erika@example.com"
numbers = ["08142 4799-123"]
"#,
        )
        .unwrap();
        let d = FileDirectory::open(&path, plan()).unwrap();
        let jane = d.by_sender("j.doe@EXAMPLE.com").unwrap().unwrap();
        assert_eq!(jane.mail, "jane@example.com");
        assert_eq!(jane.attribute("O"), Some("Example Corp"));
        assert!(d.by_sender("nobody@example.com").unwrap().is_none());
        let (u, hash) = d.login_entry(" J.Doe@example.com").unwrap().unwrap();
        assert_eq!(u.mail, "jane@example.com");
        assert!(hash.unwrap().starts_with("$argon2id$"));
        let (_, hash) = d.login_entry("erika@example.com").unwrap().unwrap();
        assert!(hash.is_none());
        assert!(d.login_entry("nobody@example.com").unwrap().is_none());
        let n = plan().normalise("123").unwrap();
        let owners: Vec<_> = d
            .by_number(&n)
            .unwrap()
            .into_iter()
            .map(|u| u.mail)
            .collect();
        assert_eq!(owners, ["jane@example.com", "erika@example.com"]);
        // a broken edit keeps the last good version
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "[[user]]\nmail = 5\n").unwrap();
        let later = umsgate_domain::clock::now() + std::time::Duration::from_secs(5);
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(later).unwrap();
        assert!(d.by_sender("jane@example.com").unwrap().is_some());
        // opened broken, or not at all: the administrator has to act
        let e = FileDirectory::open(&path, plan()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadData);
        assert!(e.is_config() && !e.is_temporary());
        assert!(std::error::Error::source(&e).is_some());
        let e = FileDirectory::open(&dir.join("missing.toml"), plan()).unwrap_err();
        assert!(e.is_config() && !e.is_temporary());
        assert!(e.to_string().starts_with("cannot read "), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
