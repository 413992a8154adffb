//! `umsgate demo`: a self-contained installation in `./umsgate-demo/`.
//!
//! Contract: the demo folder is written only if it does not exist yet (an administrator's
//! edits survive a second run); it holds a configuration with a file directory, the
//! simulated gateway and Maildir delivery, so that it runs with nothing else installed.
//! The web console listens on its own address (default [`DEFAULT_WEB_LISTEN`]) with one
//! administrator, `admin`, whose password is made when the folder is written: random, kept
//! (mode 0600) in [`PASSWORD_FILE`] so that the banner can print it, and only its argon2
//! hash is in the configuration.

use std::io;
use std::net::SocketAddr;
use std::path::Path;

/// Default listener of the demo.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:10025";
/// Default address of the demo's web console.
pub const DEFAULT_WEB_LISTEN: &str = "127.0.0.1:8025";
/// The demo administrator's password, in the demo folder.
pub const PASSWORD_FILE: &str = "console-password.txt";

const USERS: &str = r#"# Users of the demo's file directory (the same fields as an LDAP entry).
[[user]]
mail = "jane@example.com"
aliases = ["j.doe@example.com"]
name = "Jane Doe"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=international;sms.rights=national;report.lang=de;fax.headline=Example Corp;cover=standard"
attributes = { o = "Example Corp", street = "Hauptstr. 1", postalCode = "82319", l = "Starnberg", telephoneNumber = "+49 8142 4799 0" }

[[user]]
mail = "max@example.com"
name = "Max Mustermann"
numbers = ["+49 8142 4799124"]
ums = "ums1;fax.rights=national;fax.per_day=5;report.lang=en"

[[user]]
mail = "erika@example.com"
name = "Erika Musterfrau"
numbers = ["+49 8142 4799199"]
ums = "ums1;fax.rights=local;sms.rights=none;voice.rights=internal;report.lang=fr"
"#;

fn config(listen: SocketAddr, web: SocketAddr, hash: &str) -> String {
    format!(
        r#"# umsgate demo configuration; see docs/umsgate.example.toml for every key.
[service]
state_dir = "state"
log_dir = "log"
log_rotate = {{ size = "1MB", keep = 3 }}

[service.web]
listen = "{web}"

[[service.web.admins]]
name = "admin"
password_hash = "{hash}"   # the password is in {PASSWORD_FILE}

[site]
country_code = "49"
area_code = "8142"
subscriber = "4799"
extension_digits = 3

[[instance]]
id = "demo"
name = "umsgate demo"

[instance.smtp_in]
listen = ["{listen}"]
allow_from = ["127.0.0.0/8", "::1/128"]
max_message_size = "20MB"

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
maildir = "maildir/"
retry = ["10s", "1m", "10m"]

[instance.directory]
kind = "file"
path = "users.toml"

[instance.gateway]
kind = "sim"
delay = "2s"
fail_numbers = ["*666"]
"#
    )
}

/// Writes the demo folder unless it exists; returns whether it was written.
pub fn write(dir: &Path, listen: SocketAddr, web: SocketAddr) -> io::Result<bool> {
    if dir.join("umsgate.toml").exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(dir.join("maildir"))?;
    std::fs::write(dir.join("users.toml"), USERS)?;
    let password = crate::web::session::random_token()
        .ok_or_else(|| io::Error::other("the system's random generator failed"))?;
    let password: String = password.chars().take(20).collect();
    let hash = hash_password(&password)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    io::Write::write_all(
        &mut opts.open(dir.join(PASSWORD_FILE))?,
        password.as_bytes(),
    )?;
    std::fs::write(dir.join("umsgate.toml"), config(listen, web, &hash))?;
    Ok(true)
}

fn hash_password(password: &str) -> io::Result<String> {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    use argon2::password_hash::rand_core::OsRng;
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| io::Error::other(format!("cannot hash the demo password: {e}")))
}

/// The demo console's address and password, when the demo has a console.
pub fn console(dir: &Path, config: &crate::config::Config) -> Option<(SocketAddr, String)> {
    let listen = *config.service.web.as_ref()?.listen.first()?;
    let password = std::fs::read_to_string(dir.join(PASSWORD_FILE)).ok()?;
    Some((listen, password.trim().to_owned()))
}

/// What to try, printed when the demo runs.
pub fn instructions(
    dir: &Path,
    listen: SocketAddr,
    console: Option<(SocketAddr, String)>,
) -> String {
    let d = dir.display();
    let console = console.map_or_else(String::new, |(addr, password)| {
        format!(
            "\nThe web console: http://{addr}/  user `admin`, password `{password}`\n\
             (kept in {d}/{PASSWORD_FILE})\n"
        )
    });
    let text = format!(
        "umsgate demo is running: instance `demo`, SMTP on {listen}, folder {d}/\n\
         \n\
         Send a fax job (swaks needs POSIXLY_CORRECT=1 for addresses starting with +):\n\
         \x20 POSIXLY_CORRECT=1 swaks --server {listen} --from jane@example.com \\\n\
         \x20   --to +4930123456@fax.example.com --header 'Subject: Offer' --body 'Please find our offer.'\n\
         An address that is not a fax/SMS/voice address is refused at RCPT:\n\
         \x20 swaks --server {listen} --from jane@example.com --to jane@example.com\n\
         The simulated engine writes each job to {d}/state/demo/gateway/sim/sent.jsonl and keeps\n\
         the rendered fax it was handed as {d}/state/demo/gateway/sim/docs/<job-id>.pdf\n\
         (the log line `gateway.sim.document` names each one). Render any mail yourself:\n\
         \x20 umsgate --config {d}/umsgate.toml render MAIL.eml -o fax.pdf\n\
         See what waits:\n\
         \x20 umsgate --config {d}/umsgate.toml queue list\n\
         Accepted mail is in {d}/state/demo/smtp-in/, logs are in {d}/log/demo/.\n\
         Stop with Ctrl-C.\n"
    );
    format!("{text}{console}")
}
