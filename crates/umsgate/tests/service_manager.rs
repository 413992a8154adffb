//! `umsgate run` under a service manager (systemd `Type=notify`): the real binary with
//! `NOTIFY_SOCKET` pointing at a datagram socket this test binds. `READY=1` arrives only when
//! the SMTP listener already greets, and `STOPPING=1` when SIGTERM starts the graceful stop.
#![allow(clippy::unwrap_used)]

mod support;

use std::os::unix::net::UnixDatagram;
use std::process::Command;

use support::{Daemon, Smtp, Work, config_text, free_addr};

/// The next datagram, as text; fails the test when none comes within the deadline.
fn next_message(sock: &UnixDatagram, daemon: &Daemon) -> String {
    let mut buf = [0u8; 4096];
    match sock.recv(&mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(e) => panic!(
            "no notification within {:?}: {e}\n{}",
            support::DEADLINE,
            daemon.output()
        ),
    }
}

#[test]
fn ready_comes_after_the_listener_accepts_and_stopping_on_sigterm() {
    let work = Work::new("notify");
    let listen = free_addr();
    work.write_config(&config_text(listen, ""));
    let socket = work.dir.join("notify.sock");
    let sock = UnixDatagram::bind(&socket).unwrap();
    sock.set_read_timeout(Some(support::DEADLINE)).unwrap();

    let mut cmd = Command::new(support::bin());
    cmd.arg("--config")
        .arg(work.config_path())
        .arg("run")
        .env("NOTIFY_SOCKET", &socket);
    let mut daemon = Daemon::spawn(cmd, &work.dir, listen);

    let ready = next_message(&sock, &daemon);
    assert!(
        ready.lines().any(|l| l == "READY=1"),
        "first notification is not READY=1: {ready:?}"
    );
    assert!(
        ready.lines().any(|l| l == "STATUS=1 instance listening"),
        "{ready:?}"
    );
    // At the moment READY=1 arrived the listener must already answer: no waiting, no retry.
    let (mut smtp, greeting) = Smtp::connect(listen).unwrap_or_else(|e| {
        panic!(
            "READY=1 sent but {listen} refuses connections: {e}\n{}",
            daemon.output()
        )
    });
    assert_eq!(greeting.code, 220, "{greeting:?}");
    assert!(greeting.text.contains("ESMTP umsgate"), "{greeting:?}");
    let _ = smtp.command("QUIT");

    let st = daemon.sigterm();
    assert!(st.success(), "exit {st}\n{}", daemon.output());
    let stopping = next_message(&sock, &daemon);
    assert_eq!(stopping, "STOPPING=1\n");
}

#[test]
fn without_notify_socket_run_starts_and_stops_as_before() {
    let work = Work::new("no-notify");
    let listen = free_addr();
    work.write_config(&config_text(listen, ""));
    let mut cmd = Command::new(support::bin());
    cmd.arg("--config")
        .arg(work.config_path())
        .arg("run")
        .env_remove("NOTIFY_SOCKET");
    let mut daemon = Daemon::spawn(cmd, &work.dir, listen);
    daemon.wait_ready();
    let st = daemon.sigterm();
    assert!(st.success(), "exit {st}\n{}", daemon.output());
    assert!(
        !daemon.output().contains("notify_failed"),
        "{}",
        daemon.output()
    );
}
