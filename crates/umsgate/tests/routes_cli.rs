//! The commands an installation uses around the service: `umsgate routes` (what the mail
//! server must send to umsgate), `umsgate check --config-only` (the unit's `ExecStartPre`:
//! no peer is contacted) and the hidden `umsgate man` (the package's manual page).
#![allow(clippy::unwrap_used)]

mod support;

use support::{Work, config_text, describe, free_addr};

#[test]
fn routes_names_each_domain_with_its_next_hop() {
    let work = Work::new("routes");
    let listen = free_addr();
    work.write_config(&config_text(listen, ""));
    let o = work.umsgate(&["routes"]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for d in ["fax.example.com", "sms.example.com", "voice.example.com"] {
        assert!(
            out.contains(&format!("{d} smtp:[{}]:{}\n", listen.ip(), listen.port())),
            "{out}"
        );
    }
    assert!(out.contains("address ums@example.com"), "{out}");

    let o = work.umsgate(&["routes", "--json"]);
    assert!(o.status.success(), "{}", describe(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["instance"], support::INSTANCE);
    assert_eq!(v[0]["services"][1]["service"], "sms");
    assert_eq!(v[0]["services"][1]["domain"], "sms.example.com");
    assert_eq!(v[0]["listen"][0], listen.to_string());
}

#[test]
fn check_config_only_does_not_ask_the_mail_server() {
    let work = Work::new("check-config-only");
    // A mail server nobody listens on: the full check fails on it, the start check does not.
    let nobody = free_addr();
    let text = config_text(free_addr(), "").replace(
        "[instance.mail]\n",
        &format!(
            "[instance.mail]\nserver = \"{}\"\nport = {}\n",
            nobody.ip(),
            nobody.port()
        ),
    );
    let text = text.replace("maildir = \"maildir/\"\n", "");
    work.write_config(&text);
    let full = work.umsgate(&["check"]);
    assert_eq!(full.status.code(), Some(1), "{}", describe(&full));
    assert!(
        String::from_utf8_lossy(&full.stdout).contains("mail server: FAILED"),
        "{}",
        describe(&full)
    );
    let start = work.umsgate(&["check", "--config-only"]);
    assert!(start.status.success(), "{}", describe(&start));
    let out = String::from_utf8_lossy(&start.stdout);
    assert!(out.contains("configuration is valid"), "{out}");
    assert!(!out.contains("mail server"), "{out}");

    std::fs::write(work.config_path(), text + "unknown_key = 1\n").unwrap();
    let bad = work.umsgate(&["check", "--config-only"]);
    assert_eq!(bad.status.code(), Some(1), "{}", describe(&bad));
}

#[test]
fn man_writes_a_roff_page_that_lists_the_commands() {
    let work = Work::new("man");
    let page = work.dir.join("man").join("umsgate.1");
    let o = support::run_cli(&["man", "--out", page.to_str().unwrap()], None, &work.dir);
    assert!(o.status.success(), "{}", describe(&o));
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(text.contains(".TH umsgate 1"), "{text}");
    for cmd in ["run", "check", "routes", "queue", "send\\-test"] {
        assert!(text.contains(cmd), "`{cmd}` missing from the page");
    }
    // Hidden from the page and from --help: it is a build step, not a user command.
    assert!(!text.contains("umsgate\\-man"), "{text}");
}
