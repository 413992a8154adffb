//! The web console in a real headless Chromium (the Debian `chromium` and `chromedriver`),
//! against the real umsgate binary delivering to a real Postfix (scripts/mail/start.sh): an
//! administrator logs in, finds a Badmail message, requeues it, and it lands in the
//! recipient's Maildir; a test SMS sent from the "Send test message" page lands there too,
//! and the Instances page runs an instance's checks. Needs `UMSGATE_TEST_PEERS=1` and the `MAIL_*` variables, and fails —
//! never skips — when Chromium or chromedriver is missing.
//!
//! With `UMSGATE_SCREENSHOTS=<folder>`, the pages it passes are saved there as PNG
//! (`docs/screenshots/` holds the ones the README shows).
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use support::browser::{self, shot, wait_for_query};
use support::{DEADLINE, Daemon, Work, free_addr, nonce, peer_env, run_cli};

const INSTANCE: &str = "web";
const PASSWORD: &str = "console-test-pw";

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

[[instance]]
id = "{INSTANCE}"
name = "Web console test"

[instance.smtp_in]
listen = ["{smtp}"]
allow_from = ["127.0.0.0/8"]

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
server = "{host}"
port = {port}
tls = {{ mode = "none" }}
retry = ["1s"]

[instance.directory]
kind = "file"
path = "users.toml"

[instance.gateway]
kind = "sim"
"#
    )
}

/// A message in Badmail, as delivery leaves it when its retries are exhausted.
fn put_in_badmail(badmail: &Path, to: &str, marker: &str) -> String {
    std::fs::create_dir_all(badmail).unwrap();
    let id = format!(
        "{:013X}{:03X}",
        0x63A0000000000u64 + u64::from(std::process::id()),
        7
    );
    let eml = format!(
        "From: ums@example.com\r\nTo: {to}\r\nSubject: <script>alert(1)</script> {marker}\r\n\
         Message-ID: <{marker}@umsgate.test>\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\n\r\n\
         fax received {marker}\r\n"
    );
    std::fs::write(badmail.join(format!("{id}.eml")), &eml).unwrap();
    let sidecar = serde_json::json!({
        "v": 1, "id": id, "instance": INSTANCE, "received_at": "2026-12-04T10:00:00Z",
        "origin": "local", "mail_from": "ums@example.com",
        "rcpts": [{"address": to, "key": 0}], "size": eml.len(), "attempts": 2,
        "last_error": "451 4.3.0 mail server unreachable",
    });
    std::fs::write(
        badmail.join(format!("{id}.json")),
        serde_json::to_vec(&sidecar).unwrap(),
    )
    .unwrap();
    id
}

/// Waits until a mail in the Maildir folder `inbox` contains `marker`; `what` names it in the
/// failure, with umsgate's output.
async fn wait_for_mail(inbox: &Path, marker: &str, what: &str, daemon: &Daemon) {
    let end = Instant::now() + DEADLINE;
    loop {
        let found = std::fs::read_dir(inbox)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(marker)));
        if found {
            return;
        }
        assert!(
            Instant::now() < end,
            "{what} did not reach {}:\n{}",
            inbox.display(),
            daemon.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_requeues_a_badmail_message_in_chromium_and_postfix_delivers_it() {
    let host = peer_env("MAIL_SMTP_HOST");
    let port = peer_env("MAIL_SMTP_PORT");
    let maildirs = PathBuf::from(peer_env("MAIL_MAILDIR_BASE"));
    let driver = browser::start_driver();

    let work = Work::new("web-console");
    let hashed = run_cli(&["hash-password"], Some(PASSWORD), &work.dir);
    assert!(hashed.status.success(), "{}", support::describe(&hashed));
    let hash = String::from_utf8(hashed.stdout).unwrap().trim().to_owned();
    let (web, smtp) = (free_addr(), free_addr());
    work.write_config(&config(web, smtp, &hash, &host, &port));
    let marker = format!("webconsole-{}", nonce());
    let badmail = work
        .dir
        .join("state")
        .join(INSTANCE)
        .join("smtp-out/badmail");
    let id = put_in_badmail(&badmail, "jane@example.com", &marker);

    let mut cmd = Command::new(support::bin());
    cmd.arg("--config").arg(work.config_path()).arg("run");
    let mut daemon = Daemon::spawn(cmd, &work.dir, smtp);
    daemon.wait_ready();
    let end = Instant::now() + DEADLINE;
    while std::net::TcpStream::connect(web).is_err() {
        assert!(
            Instant::now() < end,
            "the console did not listen on {web}:\n{}",
            daemon.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let client = browser::chromium(&driver, &work.dir).await;
    let base = format!("http://{web}");

    // Not logged in: the console sends the browser to the login page.
    client.goto(&format!("{base}/queues")).await.unwrap();
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/login")
    );
    shot(&client, "login", &work.dir).await;
    browser::log_in(&client, "admin", PASSWORD).await;
    client
        .wait()
        .for_element(Locator::Id("tab-badmail"))
        .await
        .unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/queues");

    // Badmail, found by the recipient; the subject's script stays text.
    client
        .find(Locator::Id("tab-badmail"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&client, "state=badmail").await;
    client
        .find(Locator::Id("q"))
        .await
        .unwrap()
        .send_keys("jane@")
        .await
        .unwrap();
    client
        .find(Locator::Css("form.filters button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&client, "q=jane").await;
    let link = client
        .wait()
        .for_element(Locator::LinkText(&id))
        .await
        .unwrap();
    shot(&client, "queues-badmail", &work.dir).await;
    link.click().await.unwrap();
    let headers = client
        .wait()
        .for_element(Locator::Id("headers"))
        .await
        .unwrap();
    let text = headers.text().await.unwrap();
    assert!(
        text.contains(&format!("<script>alert(1)</script> {marker}")),
        "{text}"
    );
    assert!(
        client
            .find_all(Locator::Css("main script"))
            .await
            .unwrap()
            .is_empty(),
        "the subject's script became an element"
    );
    shot(&client, "message", &work.dir).await;
    client
        .find(Locator::Id("requeue"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = client
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    assert!(notice.text().await.unwrap().contains("Requeued"));
    assert!(
        !badmail.join(format!("{id}.eml")).exists(),
        "still in Badmail"
    );

    // Delivered by Postfix into jane's Maildir.
    let inbox = maildirs.join("jane").join("new");
    wait_for_mail(&inbox, &marker, "the requeued message", &daemon).await;
    // The queues no longer hold it; the dashboard and the other pages render.
    client
        .goto(&format!("{base}/queues?instance={INSTANCE}&state=outgoing"))
        .await
        .unwrap();
    let page = client.source().await.unwrap();
    assert!(!page.contains(&id), "delivered, yet still queued");
    client.goto(&format!("{base}/")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Id(&format!("instance-{INSTANCE}")))
        .await
        .unwrap();
    shot(&client, "dashboard", &work.dir).await;
    client
        .goto(&format!("{base}/logs?instance={INSTANCE}&file=smtp"))
        .await
        .unwrap();
    client.wait().for_element(Locator::Id("log")).await.unwrap();
    shot(&client, "logs", &work.dir).await;
    client.goto(&format!("{base}/info")).await.unwrap();
    let info = client.source().await.unwrap();
    assert!(!info.contains(&hash), "the admin's hash is shown");
    shot(&client, "info", &work.dir).await;

    // A test SMS sent from the "Send test message" page reaches jane through Postfix.
    let sms_marker = format!("webtest-{}", nonce());
    client.goto(&format!("{base}/test")).await.unwrap();
    client
        .find(Locator::Css("#service option[value='sms']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for (field, value) in [
        ("calling", "+49 30 1234567"),
        ("called", "+49 8142 4799123"),
        ("text", sms_marker.as_str()),
    ] {
        client
            .find(Locator::Id(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    shot(&client, "test-message", &work.dir).await;
    client
        .find(Locator::Id("send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let received = client
        .wait()
        .for_element(Locator::Id("received-id"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!received.is_empty());
    wait_for_mail(
        &inbox,
        &sms_marker,
        &format!("the test SMS {received}"),
        &daemon,
    )
    .await;
    // Its link finds it in msgid.log, by the received message's id.
    client
        .find(Locator::Id("follow-log"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&client, "file=msgid").await;
    let log = client
        .wait()
        .for_element(Locator::Id("log"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains(&format!("received={received}")), "{log}");

    // The Instances page and one instance's configuration and checks.
    client.goto(&format!("{base}/instances")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Id(&format!("disable-{INSTANCE}")))
        .await
        .unwrap();
    shot(&client, "instances", &work.dir).await;
    client
        .goto(&format!("{base}/instances/{INSTANCE}?check=1"))
        .await
        .unwrap();
    let checks = client
        .wait()
        .for_element(Locator::Id("checks"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(checks.contains("mail server: ok"), "{checks}");
    let page = client.source().await.unwrap();
    assert!(!page.contains(&hash), "the admin's hash is shown");
    shot(&client, "instance", &work.dir).await;

    client.close().await.unwrap();
    drop(driver);
    daemon.sigterm();
}
