//! Message store `journal` end to end, black box: the real umsgate binary delivering to the
//! real Postfix of the test peers (scripts/mail/start.sh, which delivers example.com into
//! `$MAIL_MAILDIR_BASE/<localpart>/new/`), its console driven in a real headless Chromium.
//!
//! A received fax lands in the journal, not in the mailbox (one for a number nobody owns is
//! still mailed to the default recipient); the console lists it; "Send as mail" makes Postfix
//! deliver it to the mailbox. An outbound job's delivery report lands in
//! the journal while the error report of a refused job is still mailed. Needs
//! `UMSGATE_TEST_PEERS=1` and the `MAIL_*` variables, and fails — never skips — when
//! Chromium or chromedriver is missing.
//!
//! With `UMSGATE_SCREENSHOTS=<folder>`, the journal page is saved there as `journal.png`
//! (`docs/screenshots/` holds the one the README shows).
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use fantoccini::Locator;
use support::browser::{self, shot, wait_for_query};
use support::{Daemon, INSTANCE, Smtp, Work, free_addr, nonce, peer_env, run_cli};

const PASSWORD: &str = "journal-test-pw";

const USERS: &str = r#"[[user]]
mail = "jane@example.com"
name = "Jane Doe"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=national"
"#;

/// A chromedriver process on a free port, killed (by its pid) when dropped.
fn config(web: SocketAddr, smtp: SocketAddr, hash: &str, host: &str, port: &str) -> String {
    format!(
        r#"[service]
state_dir = "state"
log_dir = "log"

[service.web]
listen = "{web}"

[[service.web.admins]]
name = "admin"
password_hash = "{hash}"

[site]
country_code = "49"
area_code = "8142"
subscriber = "4799"
extension_digits = 3

[[instance]]
id = "{INSTANCE}"
name = "Journal test"

[instance.smtp_in]
listen = ["{smtp}"]
allow_from = ["127.0.0.0/8"]
hostname = "umsgate.test"

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
server = "{host}"
port = {port}
tls = {{ mode = "none" }}
retry = ["1s"]
store = "journal"

[instance.directory]
kind = "file"
path = "users.toml"

[instance.gateway]
kind = "sim"
delay = "100ms"
"#
    )
}

/// The first `msgid.log` line with every one of `parts`.
fn msgid_line(work: &Work, parts: &[&str]) -> String {
    let path = work.log("msgid");
    support::wait_for(&format!("a msgid.log line with {parts:?}"), || {
        std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .find(|l| parts.iter().all(|p| l.contains(p)))
            .map(str::to_owned)
    })
}

/// The value of `key=` in a log line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split(' ')
        .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in {line}"))
}

/// The mails in a Maildir `new/` folder whose text contains `needle`.
fn mails_with(inbox: &Path, needle: &str) -> Vec<String> {
    std::fs::read_dir(inbox)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter(|t| t.contains(needle))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_mode_keeps_faxes_and_reports_and_resend_goes_through_postfix() {
    let host = peer_env("MAIL_SMTP_HOST");
    let port = peer_env("MAIL_SMTP_PORT");
    let inbox = PathBuf::from(peer_env("MAIL_MAILDIR_BASE"))
        .join("jane")
        .join("new");
    let driver = browser::start_driver();

    let work = Work::new("journal");
    let hashed = run_cli(&["hash-password"], Some(PASSWORD), &work.dir);
    assert!(hashed.status.success(), "{}", support::describe(&hashed));
    let hash = String::from_utf8(hashed.stdout).unwrap().trim().to_owned();
    let (web, smtp) = (free_addr(), free_addr());
    std::fs::write(work.config_path(), config(web, smtp, &hash, &host, &port)).unwrap();
    std::fs::write(work.dir.join("users.toml"), USERS).unwrap();
    let journal = work.dir.join("state").join(INSTANCE).join("journal");
    let mut daemon = Daemon::run(&work, smtp);
    daemon.wait_ready();

    // A received fax for Jane: kept in the journal, not mailed.
    let calling = format!("+49 30 {}", 1000 + std::process::id() % 9000);
    let out = work.umsgate(&[
        "send-test",
        "--instance",
        INSTANCE,
        "--type",
        "fax",
        "--calling",
        &calling,
        "--called",
        "+49 8142 4799123",
    ]);
    assert!(out.status.success(), "{}", support::describe(&out));
    let line = msgid_line(
        &work,
        &[
            " to=<jane@example.com> ",
            " kind=fax ",
            " store=journal ",
            &calling,
        ],
    );
    let fax_id = field(&line, "id").to_owned();
    let fax_message_id = field(&line, "message-id").to_owned();
    support::wait_for("the fax in journal/", || {
        journal.join(format!("{fax_id}.eml")).exists().then_some(())
    });

    // A fax for a number nobody owns goes to the default recipient: mailed in every mode.
    let out = work.umsgate(&[
        "send-test",
        "--instance",
        INSTANCE,
        "--type",
        "fax",
        "--calling",
        &calling,
        "--called",
        "+49 8142 4799555",
    ]);
    assert!(out.status.success(), "{}", support::describe(&out));
    let line = msgid_line(
        &work,
        &[
            " to=<postmaster@example.com> ",
            " kind=fax ",
            " store=send ",
            &calling,
        ],
    );
    let unowned = field(&line, "message-id").to_owned();
    let postmaster = inbox
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("postmaster/new");
    support::wait_for("the unowned fax at the default recipient", || {
        mails_with(&postmaster, &unowned).into_iter().next()
    });

    // Jane faxes a national number (sent: its report goes to the journal) and an
    // international one (refused: the error report is mailed through Postfix).
    let marker = format!("journal-{}", nonce());
    let mail = format!(
        "From: jane@example.com\r\nTo: +4930111111@fax.example.com, +14155550100@fax.example.com\r\n\
         Subject: offer {marker}\r\nMessage-ID: <{marker}@example.com>\r\n\r\nbody\r\n"
    );
    let (mut c, greeting) = Smtp::connect(smtp).unwrap();
    assert_eq!(greeting.code, 220);
    c.ehlo("client.example.com").unwrap();
    c.send(
        "jane@example.com",
        &[
            "+4930111111@fax.example.com",
            "+14155550100@fax.example.com",
        ],
        mail.as_bytes(),
    )
    .unwrap()
    .unwrap_or_else(|r| panic!("umsgate refused the mail: {r:?}"));
    c.quit();
    let kept = msgid_line(
        &work,
        &[" kind=report store=journal ", "to=<jane@example.com>"],
    );
    let report_id = field(&kept, "id").to_owned();
    let report_message_id = field(&kept, "message-id").to_owned();
    support::wait_for("the report in journal/", || {
        journal
            .join(format!("{report_id}.eml"))
            .exists()
            .then_some(())
    });
    let refusal = support::wait_for("the refusal's report through Postfix", || {
        mails_with(&inbox, &marker)
            .into_iter()
            .find(|m| m.contains("+14155550100") && m.contains("(Postfix)"))
    });
    assert!(!refusal.contains(&report_message_id));
    assert!(
        mails_with(&inbox, &report_message_id).is_empty(),
        "the delivery report was mailed"
    );
    assert!(
        mails_with(&inbox, &fax_message_id).is_empty(),
        "the fax was mailed"
    );

    // The console lists both; "Send as mail" hands the fax to Postfix.
    let client = browser::chromium(&driver, &work.dir).await;
    let base = format!("http://{web}");
    client.goto(&format!("{base}/journal")).await.unwrap();
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/login")
    );
    browser::log_in(&client, "admin", PASSWORD).await;
    client
        .wait()
        .for_element(Locator::Id("journal"))
        .await
        .unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/journal");
    let page = client.source().await.unwrap();
    assert!(
        page.contains(&fax_id) && page.contains(&report_id),
        "{page}"
    );
    shot(&client, "journal", &work.dir).await;

    client
        .find(Locator::Css(&format!("a[href$='/{fax_id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let recipient = client
        .wait()
        .for_element(Locator::Id("recipient"))
        .await
        .unwrap();
    assert_eq!(recipient.text().await.unwrap(), "jane@example.com");
    client
        .find(Locator::Id("resend"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&client, "done=resent").await;
    let delivered = support::wait_for("the resent fax through Postfix", || {
        mails_with(&inbox, &fax_message_id).into_iter().next()
    });
    assert!(delivered.contains("(Postfix)"), "{delivered}");
    assert!(
        journal.join(format!("{fax_id}.eml")).exists(),
        "the journal keeps it"
    );
    client.close().await.unwrap();
    let st = daemon.sigterm();
    assert!(st.success(), "umsgate exit {st}\n{}", daemon.output());
}
