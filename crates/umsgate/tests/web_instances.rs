//! The console's Instances page against the real `umsgate run`, over plain HTTP: disabling
//! an instance from the page rewrites the configuration file (its comments intact) and the
//! running process reloads, so that the instance's SMTP listener goes away; enabling it
//! brings the listener back. An instance added to the file and a SIGHUP show up on the
//! dashboard, running.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::{DEADLINE, Daemon, Smtp, Work, free_addr, run_cli};

const PASSWORD: &str = "instances-test-pw";

/// One HTTP/1.1 exchange (`Connection: close`): status, headers, body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn http(web: SocketAddr, method: &str, path: &str, cookie: Option<&str>, form: &str) -> Answer {
    let mut s = TcpStream::connect(web).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(150))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {web}\r\nConnection: close\r\nAccept-Language: en\r\n"
    );
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Origin: http://{web}\r\nSec-Fetch-Site: same-origin\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            form.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(form);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn instance(id: &str, smtp: SocketAddr, comment: &str) -> String {
    format!(
        r#"
# {comment}
[[instance]]
id = "{id}"
name = "Instance {id}"
enabled = true # toggled by the console

[instance.smtp_in]
listen = ["{smtp}"]   # its own port
allow_from = ["127.0.0.0/8"]

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
maildir = "maildir/"

[instance.directory]
kind = "file"
path = "users.toml"

[instance.gateway]
kind = "sim"
"#
    )
}

fn greets(addr: SocketAddr) -> bool {
    match Smtp::connect(addr) {
        Ok((mut c, greeting)) => {
            let _ = c.command("QUIT");
            greeting.code == 220
        }
        Err(_) => false,
    }
}

fn wait_until(what: &str, daemon: &Daemon, mut probe: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !probe() {
        assert!(Instant::now() < end, "{what}\n{}", daemon.output());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The CSRF token of a page's forms.
fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_owned()
}

#[test]
fn disabling_from_the_console_closes_the_listener_and_a_sighup_adds_an_instance() {
    let work = Work::new("web-instances");
    let hashed = run_cli(&["hash-password"], Some(PASSWORD), &work.dir);
    assert!(hashed.status.success(), "{}", support::describe(&hashed));
    let hash = String::from_utf8(hashed.stdout).unwrap().trim().to_owned();
    let (web, a, b, c) = (free_addr(), free_addr(), free_addr(), free_addr());
    let text = format!(
        "# the administrator's own notes\n[service]\nstate_dir = \"state\"\nlog_dir = \"log\"\n\n\
         [service.web]\nlisten = \"{web}\"\n\n[[service.web.admins]]\nname = \"admin\"\n\
         password_hash = \"{hash}\"\n{}{}",
        instance("a", a, "always on"),
        instance("b", b, "switched from the console")
    );
    work.write_config(&text);
    let mut daemon = Daemon::run(&work, a);
    daemon.wait_ready();
    wait_until("b listens", &daemon, || greets(b));
    wait_until("the console listens", &daemon, || {
        TcpStream::connect(web).is_ok()
    });

    let login = http(
        web,
        "POST",
        "/login",
        None,
        &format!("name=admin&password={PASSWORD}&next=/instances"),
    );
    assert_eq!(login.status, 303, "{}", login.body);
    let cookie = login
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = http(web, "GET", "/instances", Some(&cookie), "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"disable-b\""), "{}", page.body);
    let token = csrf(&page.body);

    // Disable b: the file changes in that one value, the process reloads, b's listener goes.
    let r = http(
        web,
        "POST",
        "/instances/b/disable",
        Some(&cookie),
        &format!("csrf={token}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/instances?done=changed&id=b"),
        "{}",
        daemon.output()
    );
    let file = std::fs::read_to_string(work.config_path()).unwrap();
    let b_off = text.replacen(
        &instance("b", b, "switched from the console"),
        &instance("b", b, "switched from the console").replace(
            "enabled = true # toggled by the console",
            "enabled = false # toggled by the console",
        ),
        1,
    );
    assert_eq!(file, b_off);
    assert!(!greets(b), "b still listens after it was disabled");
    assert!(greets(a), "a stopped too");
    let page = http(
        web,
        "GET",
        "/instances?done=changed&id=b",
        Some(&cookie),
        "",
    );
    assert!(page.body.contains("id=\"enable-b\""), "{}", page.body);
    assert!(
        page.body
            .contains("configuration file written and reloaded"),
        "{}",
        page.body
    );

    // Enable it again: the file is as it was, b listens again.
    let r = http(
        web,
        "POST",
        "/instances/b/enable",
        Some(&cookie),
        &format!("csrf={token}"),
    );
    assert_eq!(r.header("location"), Some("/instances?done=changed&id=b"));
    assert_eq!(std::fs::read_to_string(work.config_path()).unwrap(), text);
    wait_until("b listens again", &daemon, || greets(b));

    // A forged request changes nothing.
    let r = http(
        web,
        "POST",
        "/instances/b/disable",
        Some(&cookie),
        "csrf=forged",
    );
    assert_eq!(r.status, 403);
    assert_eq!(std::fs::read_to_string(work.config_path()).unwrap(), text);

    // Instance c added to the file by hand, then SIGHUP: the dashboard shows it running.
    let dash = http(web, "GET", "/", Some(&cookie), "");
    assert!(!dash.body.contains("id=\"instance-c\""));
    std::fs::write(
        work.config_path(),
        format!("{text}{}", instance("c", c, "added later")),
    )
    .unwrap();
    let hup = std::process::Command::new("kill")
        .arg("-HUP")
        .arg(daemon.pid().to_string())
        .status()
        .unwrap();
    assert!(hup.success());
    wait_until("c listens after SIGHUP", &daemon, || greets(c));
    let c_listen = c.to_string();
    wait_until("the dashboard shows c running", &daemon, || {
        let dash = http(web, "GET", "/", Some(&cookie), "");
        dash.body
            .split("id=\"instance-c\"")
            .nth(1)
            .and_then(|rest| rest.split("</section>").next())
            .is_some_and(|card| card.contains("state-running") && card.contains(&c_listen))
    });
    daemon.sigterm();
}
