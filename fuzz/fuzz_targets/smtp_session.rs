//! A whole SMTP session over an in-memory stream: arbitrary client bytes get replies, never a
//! panic, and every reply line is `ddd` + SP/`-` + text + CRLF.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use umsgate::config::Config;
use umsgate::logs::InstanceLogs;
use umsgate::outbound::smtp_server::{SessionContext, serve};
use umsgate::spool::Spool;

struct World {
    rt: tokio::runtime::Runtime,
    ctx: Arc<SessionContext>,
    _shutdown: tokio::sync::watch::Sender<bool>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("umsgate-fuzz-session-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let text = format!(
            "[service]\nstate_dir = \"{0}/state\"\nlog_dir = \"{0}/log\"\n[[instance]]\nid = \"f\"\n\
             [instance.smtp_in]\nlisten = [\"127.0.0.1:0\"]\nmax_message_size = \"64KB\"\ncommand_timeout = \"1s\"\ndata_timeout = \"1s\"\n\
             [instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n",
            dir.display()
        );
        let config = Config::parse(&text, &dir.join("umsgate.toml")).expect("config");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let inst = &config.instances[0];
        let (spool, _) = rt.block_on(async { Spool::open(&dir.join("state/f/smtp-in")) }).expect("spool");
        let logs = Arc::new(InstanceLogs::open(&dir.join("log"), config.service.log_rotate).expect("logs"));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let ctx = rt.block_on(async { SessionContext::new(inst, spool, logs, rx) }).expect("context");
        World { rt, ctx: Arc::new(ctx), _shutdown: tx }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    w.rt.block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let peer = "127.0.0.1:2525".parse().expect("addr");
        let session = tokio::spawn(serve(Arc::clone(&w.ctx), server, peer));
        let _ = client.write_all(data).await;
        let _ = client.shutdown().await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), client.read_to_end(&mut out)).await;
        let _ = session.await;
        for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            assert!(line.ends_with(b"\r"), "reply line without CRLF");
            assert!(line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit) && (line[3] == b' ' || line[3] == b'-'));
        }
    });
});
