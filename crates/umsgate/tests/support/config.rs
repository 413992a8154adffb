//! [`TestConfig`]: the `umsgate.toml` of a process-level test, built from the parts a test
//! changes, so that every test starts from the same valid configuration.
//!
//! The default is one instance (`id` [`super::INSTANCE`]) on one SMTP listener that takes
//! mail from loopback, state and logs in the work folder, delivery to `maildir/`, the file
//! directory `users.toml`, and the simulated gateway. [`TestConfig::site`] adds the site's
//! number plan (`+49 8142 4799-xxx`) that the outbound and inbound tests dial and match.

use std::fmt::Write as _;
use std::net::SocketAddr;

/// Where an instance hands its mail to.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// `maildir = "maildir/"` (a local folder; no mail server needed).
    Maildir,
    /// A mail server on `host:port`, plain SMTP.
    Smtp(String, u16),
}

/// A test configuration; [`TestConfig::render`] writes it out.
#[derive(Debug, Clone)]
pub struct TestConfig {
    title: String,
    service: Vec<String>,
    site: bool,
    id: String,
    name: Option<String>,
    instance: Vec<String>,
    listen: SocketAddr,
    smtp_in: Vec<String>,
    delivery: Delivery,
    mail: Vec<String>,
    directory: String,
    defaults: Option<String>,
    gateway: Option<String>,
    tail: String,
}

impl TestConfig {
    /// Instance [`super::INSTANCE`] listening on `listen`, everything else the default.
    pub fn new(listen: SocketAddr) -> TestConfig {
        TestConfig {
            title: "umsgate integration test".to_owned(),
            service: Vec::new(),
            site: false,
            id: super::INSTANCE.to_owned(),
            name: None,
            instance: Vec::new(),
            listen,
            smtp_in: vec!["hostname = \"umsgate.test\"".to_owned()],
            delivery: Delivery::Maildir,
            mail: Vec::new(),
            directory: "kind = \"file\"\npath = \"users.toml\"".to_owned(),
            defaults: None,
            gateway: Some("kind = \"sim\"".to_owned()),
            tail: String::new(),
        }
    }

    /// The comment in the file's first line.
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_owned();
        self
    }

    /// A line for `[service]` (e.g. `store = "postgres://…"`).
    pub fn service(mut self, line: &str) -> Self {
        self.service.push(line.to_owned());
        self
    }

    /// The site's number plan: country 49, area 8142, subscriber 4799, three extension digits.
    pub fn site(mut self) -> Self {
        self.site = true;
        self
    }

    pub fn id(mut self, id: &str) -> Self {
        self.id = id.to_owned();
        self
    }

    /// The instance's display name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// A line for `[[instance]]` (e.g. `hold = true`).
    pub fn instance(mut self, line: &str) -> Self {
        self.instance.push(line.to_owned());
        self
    }

    /// A line for `[instance.smtp_in]`.
    pub fn smtp_in(mut self, line: &str) -> Self {
        self.smtp_in.push(line.to_owned());
        self
    }

    /// `[instance.smtp_in]` without a `hostname` (umsgate's default name).
    pub fn no_hostname(mut self) -> Self {
        self.smtp_in.retain(|l| !l.starts_with("hostname"));
        self
    }

    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// A line for `[instance.mail]` (e.g. `retry = ["1s"]`).
    pub fn mail(mut self, line: &str) -> Self {
        self.mail.push(line.to_owned());
        self
    }

    /// The body of `[instance.directory]`.
    pub fn directory(mut self, body: &str) -> Self {
        self.directory = body.to_owned();
        self
    }

    /// The body of `[instance.defaults]` (the table is written only when set).
    pub fn defaults(mut self, body: &str) -> Self {
        self.defaults = Some(body.to_owned());
        self
    }

    /// The body of `[instance.gateway]`, with any sub-tables after it.
    pub fn gateway(mut self, body: &str) -> Self {
        self.gateway = Some(body.to_owned());
        self
    }

    /// No `[instance.gateway]` table (umsgate's default engine).
    pub fn no_gateway(mut self) -> Self {
        self.gateway = None;
        self
    }

    /// Text appended after everything else (more tables).
    pub fn tail(mut self, text: &str) -> Self {
        self.tail.push_str(text);
        self
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        let mut t = String::new();
        let lines = |t: &mut String, lines: &[String]| {
            for l in lines.iter().filter(|l| !l.is_empty()) {
                t.push_str(l);
                t.push('\n');
            }
        };
        let _ = writeln!(t, "# {}", self.title);
        t.push_str("[service]\nstate_dir = \"state\"\nlog_dir = \"log\"\n");
        lines(&mut t, &self.service);
        if self.site {
            t.push_str(
                "\n[site]\ncountry_code = \"49\"\narea_code = \"8142\"\nsubscriber = \"4799\"\n\
                 extension_digits = 3\n",
            );
        }
        let _ = writeln!(t, "\n[[instance]]\nid = \"{}\"", self.id);
        if let Some(name) = &self.name {
            let _ = writeln!(t, "name = \"{name}\"");
        }
        lines(&mut t, &self.instance);
        let _ = writeln!(
            t,
            "\n[instance.smtp_in]\nlisten = [\"{}\"]\nallow_from = [\"127.0.0.0/8\"]",
            self.listen
        );
        lines(&mut t, &self.smtp_in);
        t.push_str(
            "\n[instance.mail]\ndomain = \"example.com\"\n\
             default_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n",
        );
        match &self.delivery {
            Delivery::Maildir => t.push_str("maildir = \"maildir/\"\n"),
            Delivery::Smtp(host, port) => {
                let _ = writeln!(
                    t,
                    "server = \"{host}\"\nport = {port}\ntls = {{ mode = \"none\" }}"
                );
            }
        }
        lines(&mut t, &self.mail);
        let _ = writeln!(t, "\n[instance.directory]\n{}", self.directory);
        if let Some(defaults) = &self.defaults {
            let _ = writeln!(t, "\n[instance.defaults]\n{defaults}");
        }
        if let Some(gateway) = &self.gateway {
            let _ = writeln!(t, "\n[instance.gateway]\n{gateway}");
        }
        t.push_str(&self.tail);
        t
    }
}
