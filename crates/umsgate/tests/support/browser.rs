//! A real headless Chromium for the console's tests: Debian's `chromium` driven through
//! `chromedriver` (WebDriver, with fantoccini), both found on `PATH`. A missing browser or
//! driver fails the test with the packages to install; it never skips.
//!
//! With `UMSGATE_SCREENSHOTS=<folder>`, [`shot`] saves the pages there as PNG
//! (`docs/screenshots/` holds the ones the README shows).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use super::{DEADLINE, free_addr};

/// A chromedriver process on a free port, killed (by its pid) when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `name` on `PATH`; panics with the packages to install when it is not there.
pub fn program(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{name}` is not installed (apt-get install chromium chromium-driver; .ci/run \
             installs them): this test needs the real browser"
        )
    })
}

pub fn start_driver() -> Driver {
    program("chromium");
    let exe = program("chromedriver");
    let port = free_addr().port();
    let child = Command::new(exe)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start chromedriver: {e}"));
    let url = format!("http://127.0.0.1:{port}");
    let d = Driver { child, url };
    let end = Instant::now() + DEADLINE;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < end,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    d
}

/// A headless Chromium session (English, 1280×900) with its profile in `work`.
pub async fn chromium(driver: &Driver, work: &Path) -> Client {
    let profile = work.join("chromium-profile");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": program("chromium"),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.display()),
                     "--lang=en-US"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("no Chromium session through chromedriver: {e}"))
}

/// Fills the login form the browser shows and submits it.
pub async fn log_in(client: &Client, name: &str, password: &str) {
    client
        .find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    client
        .find(Locator::Id("login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until the browser shows a page whose query contains `part`: a click that submits a
/// form or follows a link returns before the next page replaced the old one, and an element
/// found on the old page goes stale.
pub async fn wait_for_query(client: &Client, part: &str) {
    wait_for_url(client, &format!("?…{part}…"), |_, q| {
        q.is_some_and(|q| q.contains(part))
    })
    .await;
}

/// Waits until the browser's address satisfies `pred` (path, query; `what` names it in the
/// failure).
pub async fn wait_for_url(client: &Client, what: &str, pred: impl Fn(&str, Option<&str>) -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let url = client.current_url().await.unwrap();
        if pred(url.path(), url.query()) {
            return;
        }
        assert!(
            Instant::now() < until,
            "the browser stayed on {url}, not {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves the page as `<name>.png` in `UMSGATE_SCREENSHOTS`, else in `work/screenshots`.
pub async fn shot(client: &Client, name: &str, work: &Path) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    let dir = std::env::var_os("UMSGATE_SCREENSHOTS")
        .map_or_else(|| work.join("screenshots"), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}
