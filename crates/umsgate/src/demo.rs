//! `umsgate demo`: a self-contained installation in `./umsgate-demo/`.
//!
//! Contract: the demo folder is written only if it does not exist yet (an administrator's
//! edits survive a second run); it holds a configuration with a file directory, the
//! simulated gateway and Maildir delivery, so that it runs with nothing else installed.

use std::io;
use std::net::SocketAddr;
use std::path::Path;

/// Default listener of the demo.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:10025";

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

fn config(listen: SocketAddr) -> String {
    format!(
        r#"# umsgate demo configuration; see docs/umsgate.example.toml for every key.
[service]
state_dir = "state"
log_dir = "log"
log_rotate = {{ size = "1MB", keep = 3 }}

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
pub fn write(dir: &Path, listen: SocketAddr) -> io::Result<bool> {
    if dir.join("umsgate.toml").exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(dir.join("maildir"))?;
    std::fs::write(dir.join("users.toml"), USERS)?;
    std::fs::write(dir.join("umsgate.toml"), config(listen))?;
    Ok(true)
}

/// What to try, printed when the demo runs.
pub fn instructions(dir: &Path, listen: SocketAddr) -> String {
    let d = dir.display();
    format!(
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
    )
}
