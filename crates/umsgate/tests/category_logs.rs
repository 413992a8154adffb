//! `[service.logs.<category>]` in the running service: a category switched off gets no file
//! while the others are written; the same session with the category on is in its file.
#![allow(clippy::unwrap_used)]

mod support;

use support::{Daemon, Work, config_text, free_addr};

/// Runs the service with `logs` after `log_dir`, lets one SMTP client connect and leave
/// (what `wait_ready` does), stops it; returns the work folder.
fn run_with(name: &str, logs: &str) -> Work {
    let work = Work::new(name);
    let listen = free_addr();
    let text = config_text(listen, "")
        .replace("log_dir = \"log\"\n", &format!("log_dir = \"log\"\n{logs}"));
    assert!(text.contains(logs), "{text}");
    work.write_config(&text);
    let mut d = Daemon::run(&work, listen);
    d.wait_ready();
    let st = d.sigterm();
    assert!(st.success(), "exit {st}\n{}", d.output());
    work
}

#[test]
fn a_category_switched_off_writes_no_file_and_the_others_still_do() {
    let on = run_with("logs-on", "");
    let smtp = std::fs::read_to_string(on.log("smtp")).unwrap();
    assert!(smtp.contains(" in connect session="), "{smtp}");

    let off = run_with(
        "logs-off",
        "\n[service.logs.smtp]\nenabled = false\n\n[service.logs.ldap]\nkeep = 0\n",
    );
    assert!(
        !off.log("smtp").exists(),
        "smtp.log written although switched off"
    );
    for category in ["ldap", "msgid", "print"] {
        assert!(off.log(category).exists(), "{category}.log missing");
    }
}
