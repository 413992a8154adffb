//! The command line as an administrator uses it: `check`, `queue`, `hash-password`, `info`,
//! `send-test`, `fax`, with their exit codes (0 ok, 1 config, 2 usage, 3 runtime, 4
//! queue entry not found) and messages.
#![allow(clippy::unwrap_used)]

mod support;

use base64::Engine;
use support::{Daemon, Smtp, Work, config_text, describe, free_addr, line_of, run_cli};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `check` on `text`: asserts exit 1 and that stderr names `<file>:<line>: <key>: `.
fn check_fails_at(name: &str, text: &str, line: usize, key: &str) -> String {
    let work = Work::new(name);
    let path = work.write_config(text);
    let out = work.umsgate(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let want = format!("{}:{line}: {key}: ", path.display());
    let err = stderr(&out);
    assert!(
        err.contains(&want),
        "stderr does not name `{want}`:\n{}",
        describe(&out)
    );
    err
}

#[test]
fn check_reports_an_unknown_key_with_file_line_and_key() {
    let text = config_text(free_addr(), "max_mesage_size = \"50MB\"");
    let line = line_of(&text, "max_mesage_size");
    let err = check_fails_at(
        "unknown-key",
        &text,
        line,
        "instance.smtp_in.max_mesage_size",
    );
    // The message says what is wrong, not only where.
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn check_reports_a_bad_duration_with_file_line_and_key() {
    let text = config_text(free_addr(), "command_timeout = \"ten minutes\"");
    let line = line_of(&text, "command_timeout");
    check_fails_at(
        "bad-duration",
        &text,
        line,
        "instance.smtp_in.command_timeout",
    );
}

#[test]
fn check_reports_a_bad_retry_interval_with_file_line_and_key() {
    let text = config_text(free_addr(), "").replace(
        "maildir = \"maildir/\"",
        "maildir = \"maildir/\"\nretry = [\"60s\", \"soon\"]",
    );
    let line = line_of(&text, "retry = ");
    let err = check_fails_at("bad-retry", &text, line, "instance.mail.retry");
    assert!(err.contains("soon"), "the bad value is not named: {err}");
}

#[test]
fn check_accepts_a_valid_config() {
    let work = Work::new("valid");
    work.write_config(&config_text(free_addr(), ""));
    let out = work.umsgate(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("configuration is valid (1 instance(s))"),
        "{}",
        describe(&out)
    );
}

#[test]
fn check_names_each_cover_template_that_cannot_be_used() {
    let work = Work::new("covers");
    let covers = work.dir.join("covers");
    std::fs::create_dir_all(&covers).unwrap();
    std::fs::write(
        covers.join("letter.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><text x="5" y="20">{{ subject }}</text></svg>"#,
    )
    .unwrap();
    std::fs::write(covers.join("typo.svg"), "<svg>{{ subjcet }}</svg>").unwrap();
    let text = config_text(free_addr(), "").replacen(
        "log_dir = \"log\"",
        "log_dir = \"log\"\ncovers_dir = \"covers\"",
        1,
    );
    work.write_config(&text);
    let out = work.umsgate(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("cover pages: FAILED: ") && stdout.contains("typo.svg"),
        "{}",
        describe(&out)
    );
    assert!(
        stdout.contains("cover pages: ok: compact, letter, standard"),
        "{}",
        describe(&out)
    );
}

#[test]
fn check_says_which_converter_is_not_installed() {
    let work = Work::new("converters");
    let text = config_text(free_addr(), "").replacen(
        "log_dir = \"log\"",
        "log_dir = \"log\"\n\n[service.render]\nsoffice = \"/nonexistent/soffice\"\nhtml = \"none\"\n",
        1,
    );
    work.write_config(&text);
    let out = work.umsgate(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "render: LibreOffice (Office files): FAILED: `/nonexistent/soffice` is not installed"
        ),
        "{}",
        describe(&out)
    );
    assert!(
        !stdout.contains("Chromium"),
        "switched off: {}",
        describe(&out)
    );
}

#[test]
fn check_refuses_auth_to_the_mail_server_in_clear_text() {
    let base = config_text(free_addr(), "").replace("maildir = \"maildir/\"\n", "");
    let text = base.replace(
        "report_sender = \"ums@example.com\"",
        "report_sender = \"ums@example.com\"\ntls = { mode = \"none\" }\nauth = { user = \"gw\", password = \"s3cret\" }",
    );
    let line = line_of(&text, "auth = { user");
    let err = check_fails_at("cleartext-auth", &text, line, "instance.mail.auth");
    assert!(err.contains("allow_cleartext"), "{err}");
}

#[test]
fn check_refuses_what_run_refuses() {
    // A store umsgate cannot use.
    let text = config_text(free_addr(), "").replace(
        "log_dir = \"log\"",
        "log_dir = \"log\"\nstore = \"mysql://ums@db/ums\"",
    );
    let line = line_of(&text, "store = ");
    check_fails_at("mysql-store", &text, line, "service.store");
    // A listener certificate that cannot be loaded.
    let text = config_text(
        free_addr(),
        "tls = { cert = \"missing.crt\", key = \"missing.key\" }",
    );
    let line = line_of(&text, "tls = {");
    let err = check_fails_at("missing-cert", &text, line, "instance.smtp_in.tls");
    assert!(err.contains("missing.crt"), "{err}");
}

#[test]
fn check_without_a_config_file_fails_with_exit_1() {
    let work = Work::new("missing");
    let out = work.umsgate(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&work.config_path().display().to_string()),
        "{}",
        describe(&out)
    );
}

#[test]
fn queue_list_json_on_an_empty_spool_is_an_empty_array() {
    let work = Work::new("queue-empty");
    work.write_config(&config_text(free_addr(), ""));
    let out = work.umsgate(&["queue", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&out)));
    assert_eq!(v, serde_json::json!([]), "{}", describe(&out));
    // Also once the folders exist.
    std::fs::create_dir_all(work.smtp_in().join(".tmp")).unwrap();
    let out = work.umsgate(&["queue", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!([]), "{}", describe(&out));
}

#[test]
fn queue_show_delete_requeue_of_unknown_ids_exit_4() {
    let work = Work::new("queue-missing");
    work.write_config(&config_text(free_addr(), ""));
    for args in [
        &["queue", "show", "NOPE"][..],
        &["queue", "show", "../etc/passwd"],
        &["queue", "delete", "NOPE"],
        &["queue", "requeue", "NOPE"],
    ] {
        let out = work.umsgate(args);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", describe(&out));
    }
}

#[test]
fn queue_show_and_delete_a_hand_dropped_message() {
    let work = Work::new("queue-hand");
    work.write_config(&config_text(free_addr(), ""));
    let dir = work.smtp_in();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("HAND1.eml"),
        "From: <jane@example.com>\r\nTo: <+4930123456@fax.example.com>\r\nSubject: by hand\r\n\r\nbody\r\n",
    )
    .unwrap();
    let out = work.umsgate(&["queue", "show", "HAND1"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Subject: by hand"),
        "{}",
        describe(&out)
    );
    let out = work.umsgate(&["queue", "delete", "HAND1"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(!dir.join("HAND1.eml").exists());
    let out = work.umsgate(&["queue", "show", "HAND1"]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
}

/// Mail in the intake log of a running umsgate: listed and shown, marked `in_intake_log`;
/// requeue and delete refuse it with the reason (only the daemon writes the log), exit 3.
#[tokio::test]
async fn mail_in_the_intake_log_is_listed_and_shown_but_not_changed() {
    use umsgate::spool::{Origin, QueueId, Recipient, Sidecar, Spool, sidecar};
    let work = Work::new("queue-log");
    work.write_config(&config_text(free_addr(), ""));
    let (spool, _) = Spool::open_logged(&work.smtp_in(), None).unwrap();
    let id = QueueId::generate();
    let sc = Sidecar {
        v: sidecar::VERSION,
        id: id.clone(),
        instance: "it".parse().unwrap(),
        received_at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_687_200),
        origin: Origin::Smtp,
        client: None,
        helo: None,
        tls: false,
        auth: None,
        mail_from: "jane@example.com".into(),
        rcpts: vec![Recipient::new(
            "+4930123456@fax.example.com".into(),
            None,
            0,
        )],
        size: 0,
        message_id: None,
        attempts: 0,
        next_attempt: None,
        last_error: None,
    };
    let eml = b"Subject: in the log\r\n\r\nbody\r\n".to_vec();
    spool.store(sc, eml.clone()).await.unwrap();

    let out = work.umsgate(&["queue", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["state"], "incoming");
    assert_eq!(items[0]["in_intake_log"], true);
    assert_eq!(items[0]["size"], eml.len() as u64);
    assert_eq!(items[0]["from"], "jane@example.com");

    let out = work.umsgate(&["queue", "show", id.as_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Subject: in the log"),
        "{}",
        describe(&out)
    );
    for verb in ["delete", "requeue"] {
        let out = work.umsgate(&["queue", verb, id.as_str()]);
        assert_eq!(out.status.code(), Some(3), "{verb}: {}", describe(&out));
        assert!(
            stderr(&out).contains("intake log"),
            "{verb}: {}",
            describe(&out)
        );
    }
    // Still there, untouched, for the daemon.
    assert_eq!(spool.take_logged().len(), 1);
}

fn hash_password(password: &str) -> String {
    let out = run_cli(
        &["hash-password"],
        Some(&format!("{password}\n")),
        &std::env::temp_dir(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let hash = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
    assert!(
        hash.starts_with("$argon2id$"),
        "not an argon2id hash: {hash}"
    );
    assert!(!hash.contains(password), "the password leaks into {hash}");
    hash
}

#[test]
fn hash_password_refuses_an_empty_password() {
    let out = run_cli(&["hash-password"], Some("\n"), &std::env::temp_dir());
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
}

#[test]
fn hash_password_output_is_accepted_in_auth_users_and_authenticates() {
    let password = "s3cret with spaces";
    let hash = hash_password(password);
    assert_ne!(hash, hash_password(password), "the salt is not random");

    let work = Work::new("hash");
    let addr = free_addr();
    work.write_config(&config_text(
        addr,
        &format!(
            "auth.users = [{{ name = \"mailserver\", password_hash = \"{hash}\" }}]\nauth.require_tls = false"
        ),
    ));
    let out = work.umsgate(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    // The hash is not only syntactically accepted: the listener authenticates with it.
    let mut d = Daemon::run(&work, addr);
    d.wait_ready();
    let b64 = base64::engine::general_purpose::STANDARD;
    let (mut c, _) = Smtp::connect(addr).unwrap();
    let ehlo = c.ehlo("client.test").unwrap();
    assert!(ehlo.text.contains("AUTH PLAIN LOGIN"), "{ehlo:?}");
    let wrong = b64.encode(b"\0mailserver\0wrong");
    let r = c.command(&format!("AUTH PLAIN {wrong}")).unwrap();
    assert_eq!(r.code, 535, "{r:?}");
    let right = b64.encode(format!("\0mailserver\0{password}"));
    let r = c.command(&format!("AUTH PLAIN {right}")).unwrap();
    assert_eq!(r.code, 235, "{r:?}");
    c.quit();
    assert!(d.sigterm().success(), "{}", d.output());
}

#[test]
fn a_bad_password_hash_is_a_config_error() {
    let text = config_text(
        free_addr(),
        "auth.users = [{ name = \"mailserver\", password_hash = \"plain-text\" }]\nauth.require_tls = false",
    );
    let line = line_of(&text, "auth.users");
    check_fails_at(
        "bad-hash",
        &text,
        line,
        "instance.smtp_in.auth.users.password_hash",
    );
}

fn sample(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/samples")
        .join(name)
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_wrong_command_line_exits_2_and_help_exits_0() {
    let cwd = std::env::temp_dir();
    let out = run_cli(&["no-such-command"], None, &cwd);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no-such-command"),
        "{}",
        describe(&out)
    );
    let out = run_cli(&["queue", "list", "--state", "lost"], None, &cwd);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = run_cli(&["--help"], None, &cwd);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(stdout(&out).contains("hash-password"), "{}", describe(&out));
    let out = run_cli(&["--version"], None, &cwd);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(
        stdout(&out),
        format!("umsgate {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn info_names_the_instance_its_folders_and_queue_counts() {
    let work = Work::new("info");
    let addr = free_addr();
    work.write_config(&config_text(addr, ""));
    std::fs::create_dir_all(work.smtp_in()).unwrap();
    std::fs::write(
        work.smtp_in().join("HAND1.eml"),
        "Subject: x\r\n\r\nbody\r\n",
    )
    .unwrap();

    let out = work.umsgate(&["info"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let state = work.dir.join("state").join("it");
    let log = work.dir.join("log").join("it");
    let want = format!(
        "umsgate {}\nconfig: {}\ninstance it (umsgate integration test): listen {addr}\n  state: {}\n  logs:  {}\n  queues: badmail=0 deferred=0 error=0 incoming=1 outgoing=0\n",
        env!("CARGO_PKG_VERSION"),
        work.config_path().display(),
        state.display(),
        log.display(),
    );
    assert_eq!(stdout(&out), want, "{}", describe(&out));

    let out = work.umsgate(&["info", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["instances"][0]["id"], "it");
    assert_eq!(v["instances"][0]["enabled"], true);
    assert_eq!(v["instances"][0]["listen"][0], addr.to_string());
    assert_eq!(v["instances"][0]["queues"]["incoming"], 1);
    assert_eq!(v["instances"][0]["state_dir"], state.to_str().unwrap());
}

/// The one message folder in `received/` of instance `it`, and its `message.json`.
fn received_one(work: &Work) -> (std::path::PathBuf, serde_json::Value) {
    let received = work.dir.join("state").join("it").join("received");
    let dirs: Vec<_> = std::fs::read_dir(&received)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let json = std::fs::read(dirs[0].join("message.json")).unwrap();
    (dirs[0].clone(), serde_json::from_slice(&json).unwrap())
}

#[test]
fn send_test_voice_takes_a_wav_or_the_built_in_one_and_records_its_length() {
    let work = Work::new("send-voice");
    work.write_config(&config_text(free_addr(), ""));
    let base = [
        "send-test",
        "--instance",
        "it",
        "--type",
        "voice",
        "--calling",
        "+4930111",
        "--called",
        "+4981424799123",
    ];
    let tif = sample("fax_1p_g3_1d.tif");
    let out = work.umsgate(&[&base[..], &["--file", tif.to_str().unwrap()]].concat());
    assert_eq!(
        out.status.code(),
        Some(1),
        "a TIFF is no WAV: {}",
        describe(&out)
    );

    let missing = work.dir.join("missing.wav");
    let out = work.umsgate(&[&base[..], &["--file", missing.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(
        stderr(&out).contains("cannot read the file"),
        "{}",
        describe(&out)
    );

    let wav = sample("voice_message_8k.wav");
    let out = work.umsgate(&[&base[..], &["--file", wav.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("voice from +4930111 to +4981424799123 written to"),
        "{}",
        describe(&out)
    );
    let (dir, msg) = received_one(&work);
    let len = std::fs::metadata(&wav).unwrap().len();
    assert_eq!(msg["service"], "voice");
    assert_eq!(msg["duration_s"], (len - 44) / 16_000);
    assert_eq!(msg["files"], serde_json::json!(["voice.wav"]));
    assert_eq!(msg["pages"], serde_json::Value::Null);
    assert_eq!(
        std::fs::read(dir.join("voice.wav")).unwrap(),
        std::fs::read(&wav).unwrap()
    );
    let at = msg["received_at"].as_str().unwrap();
    assert!(umsgate::clock::parse_rfc3339(at).is_some(), "{at}");

    // Without --file: the built-in recording.
    let work = Work::new("send-voice-builtin");
    work.write_config(&config_text(free_addr(), ""));
    let out = work.umsgate(&base);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let (dir, msg) = received_one(&work);
    assert!(msg["duration_s"].as_u64().unwrap() > 0, "{msg}");
    assert_eq!(
        std::fs::read(dir.join("voice.wav")).unwrap(),
        std::fs::read(sample("voice_message_8k_ulaw.wav")).unwrap()
    );
}

#[test]
fn send_test_fax_and_sms_write_a_received_message() {
    let work = Work::new("send-fax");
    work.write_config(&config_text(free_addr(), ""));
    let out = work.umsgate(&[
        "send-test",
        "--instance",
        "it",
        "--type",
        "fax",
        "--calling",
        "+4930111",
        "--called",
        "+4981424799123",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let (dir, msg) = received_one(&work);
    assert_eq!(msg["service"], "fax");
    assert_eq!(msg["pages"], 1);
    assert_eq!(msg["csid"], "+4930111");
    assert_eq!(
        std::fs::read(dir.join("fax.tif")).unwrap(),
        std::fs::read(sample("fax_1p_g3_1d.tif")).unwrap()
    );

    let work = Work::new("send-sms");
    work.write_config(&config_text(free_addr(), ""));
    let out = work.umsgate(&[
        "send-test",
        "--instance",
        "it",
        "--type",
        "sms",
        "--calling",
        "+4930111",
        "--called",
        "+4981424799123",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let (_, msg) = received_one(&work);
    assert_eq!(msg["text"], "umsgate test message");
    assert_eq!(msg["csid"], serde_json::Value::Null);

    let out = work.umsgate(&[
        "send-test",
        "--instance",
        "nope",
        "--type",
        "sms",
        "--calling",
        "1",
        "--called",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no instance `nope`"),
        "{}",
        describe(&out)
    );
}

#[test]
fn fax_pages_and_to_pdf() {
    let work = Work::new("fax");
    let tif = sample("fax_3p_g4.tif");
    let out = run_cli(&["fax", "pages", tif.to_str().unwrap()], None, &work.dir);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "3\n");

    let pdf = work.dir.join("out.pdf");
    let out = run_cli(
        &[
            "fax",
            "to-pdf",
            tif.to_str().unwrap(),
            "-o",
            pdf.to_str().unwrap(),
        ],
        None,
        &work.dir,
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let out = run_cli(&["fax", "pages", pdf.to_str().unwrap()], None, &work.dir);
    assert_eq!(stdout(&out), "3\n", "{}", describe(&out));

    let wav = sample("voice_message_8k.wav");
    let out = run_cli(&["fax", "pages", wav.to_str().unwrap()], None, &work.dir);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let out = run_cli(
        &[
            "fax",
            "to-pdf",
            wav.to_str().unwrap(),
            "-o",
            pdf.to_str().unwrap(),
        ],
        None,
        &work.dir,
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("cannot convert"),
        "{}",
        describe(&out)
    );
    let out = run_cli(&["fax", "pages", "/nonexistent/x.tif"], None, &work.dir);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
}
