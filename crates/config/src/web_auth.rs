//! Who may log in to the web console and the portal: `[[service.web.admins]]`,
//! `web.admin_group`, `web.admin_membership` and `web.login_limit`.
//!
//! Contract: after loading, an administrator's password is an argon2 hash in PHC form (the
//! type refuses anything else), the admin group is a non-empty DN or absent, membership is a
//! closed set, and the login limiter's figures are positive and bounded, so the authenticator
//! never has to re-check them.

use std::time::Duration;

use serde::Deserialize;

use crate::units::{self, PasswordHash};

/// One `[[service.web.admins]]`: an administrator who logs in without the directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebAdmin {
    pub name: String,
    pub password_hash: PasswordHash,
}

/// `[[service.web.admins]]`: names not empty, at most 64 characters without control
/// characters, each once.
pub fn admins<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<WebAdmin>, D::Error> {
    let admins = Vec::<WebAdmin>::deserialize(d)?;
    for (i, a) in admins.iter().enumerate() {
        if a.name.trim().is_empty()
            || a.name.trim() != a.name
            || a.name.chars().count() > 64
            || a.name.chars().any(char::is_control)
        {
            return Err(serde::de::Error::custom(format!(
                "admin name `{}`: 1 to 64 characters, no spaces around, no control characters",
                a.name.escape_debug()
            )));
        }
        if admins[..i].iter().any(|b| b.name == a.name) {
            return Err(serde::de::Error::custom(format!(
                "admin `{}` is listed twice",
                a.name
            )));
        }
    }
    Ok(admins)
}

/// `web.admin_membership`: how membership in `web.admin_group` is read from the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminMembership {
    /// The group entry's `member` or `uniqueMember` holds the user's DN (OpenLDAP
    /// `groupOfNames` / `groupOfUniqueNames`, Active Directory groups).
    #[default]
    Group,
    /// The user's `memberOf` holds the group's DN (Active Directory, OpenLDAP with the
    /// `memberof` overlay).
    MemberOf,
}

/// `web.login_limit = { burst = 5, refill = "1m", tracked = 10000 }`: failed logins allowed
/// in a row per client address and per login name, one more each `refill`; at most `tracked`
/// addresses and names are remembered (the oldest are forgotten first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginLimit {
    #[serde(deserialize_with = "burst")]
    pub burst: u32,
    #[serde(deserialize_with = "refill")]
    pub refill: Duration,
    #[serde(deserialize_with = "tracked")]
    pub tracked: usize,
}

impl Default for LoginLimit {
    fn default() -> Self {
        LoginLimit {
            burst: 5,
            refill: Duration::from_secs(60),
            tracked: 10_000,
        }
    }
}

fn burst<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(d)?;
    if (1..=1000).contains(&n) {
        Ok(n)
    } else {
        Err(serde::de::Error::custom("burst must be 1 to 1000"))
    }
}

fn refill<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let v = units::duration(d)?;
    if v >= Duration::from_secs(1) && v <= Duration::from_secs(86_400) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom("refill must be 1s to 1d"))
    }
}

fn tracked<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = usize::deserialize(d)?;
    if (10..=1_000_000).contains(&n) {
        Ok(n)
    } else {
        Err(serde::de::Error::custom("tracked must be 10 to 1000000"))
    }
}

/// `web.admin_group`: a DN, not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDn(String);

impl GroupDn {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for GroupDn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let t = s.trim();
        if t.is_empty() || !t.contains('=') || t.len() > 1024 {
            return Err(serde::de::Error::custom(
                "admin_group must be a group's DN, e.g. \"cn=ums-admins,ou=Groups,dc=example,dc=com\"",
            ));
        }
        Ok(GroupDn(t.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, Deserialize)]
    struct A {
        #[serde(deserialize_with = "admins")]
        admins: Vec<WebAdmin>,
    }

    #[test]
    fn admin_names_are_unique_and_plain() {
        let h = "$argon2id$v=19$m=19456,t=2,p=1$dW1zZ2F0ZWR1bW15$3mQbqNbnhMOw0mFdbI8Xgk6k2wLoTFjlBSTOGpIH3yQ";
        let one = |n: &str| format!("[[admins]]\nname = \"{n}\"\npassword_hash = \"{h}\"\n");
        let a: A = toml::from_str(&format!("{}{}", one("admin"), one("ops"))).unwrap();
        assert_eq!(a.admins.len(), 2);
        let e = toml::from_str::<A>(&format!("{}{}", one("admin"), one("admin"))).unwrap_err();
        assert!(
            e.to_string().contains("admin `admin` is listed twice"),
            "{e}"
        );
        for bad in ["", " admin", "a\\tb"] {
            assert!(toml::from_str::<A>(&one(bad)).is_err(), "{bad:?}");
        }
        assert!(toml::from_str::<A>(&one("admin").replace(h, "plain")).is_err());
    }

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(default)]
        limit: LoginLimit,
        group: Option<GroupDn>,
        #[serde(default)]
        membership: AdminMembership,
    }

    #[test]
    fn limits_and_group_are_checked_when_read() {
        let t: T = toml::from_str("").unwrap();
        assert_eq!(t.limit, LoginLimit::default());
        assert_eq!(t.membership, AdminMembership::Group);
        assert!(t.group.is_none());
        let t: T = toml::from_str(
            "limit = { burst = 3, refill = \"30s\" }\ngroup = \"cn=a,dc=x\"\nmembership = \"member_of\"",
        )
        .unwrap();
        assert_eq!(t.limit.burst, 3);
        assert_eq!(t.limit.refill, Duration::from_secs(30));
        assert_eq!(t.limit.tracked, 10_000);
        assert_eq!(t.group.unwrap().as_str(), "cn=a,dc=x");
        assert_eq!(t.membership, AdminMembership::MemberOf);
        for bad in [
            "limit = { burst = 0 }",
            "limit = { refill = \"0s\" }",
            "limit = { tracked = 1 }",
            "limit = { speed = 1 }",
            "group = \"\"",
            "group = \"admins\"",
            "membership = \"nested\"",
        ] {
            assert!(toml::from_str::<T>(bad).is_err(), "{bad}");
        }
    }
}
