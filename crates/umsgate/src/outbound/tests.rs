//! The outbound worker in process, one message processed at a time — what the worker
//! records when something stops it, without the listener or the binary. Its queues
//! (`smtp-in/`, and delivery's `smtp-out/`) are in-memory spools ([`Spool::in_memory`]), so
//! the worker runs with no file under its queue; the directory, the simulated engine, the
//! state store and the Maildirs are in a scratch folder. One test works on a spool on disk,
//! where a damaged sidecar can be written.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use super::error::WorkError;
use super::jobs::JobRecords;
use super::mime;
use super::worker::Outbound;
use crate::config::Config;
use crate::delivery::Delivery;
use crate::directory::{Directory, FileDirectory};
use crate::gateway::Gateway;
use crate::logs::InstanceLogs;
use crate::reports::Reports;
use crate::spool::layout::InstanceDirs;
use crate::spool::{QueueId, Spool, adopt};
use crate::store::Store;

struct Harness {
    dir: PathBuf,
    out: Arc<Outbound>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// An instance with a users file, Maildir delivery and the simulated engine (paths relative
/// to the scratch folder); also what the plan's unit tests read.
pub(super) const CONFIG: &str = r#"
[service]
state_dir = "state"
log_dir = "log"

[site]
country_code = "49"
area_code = "8142"
subscriber = "4799"
extension_digits = 3

[[instance]]
id = "t"

[instance.smtp_in]
listen = ["127.0.0.1:0"]

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
delay = "1h"
"#;

const USERS: &str = r#"
[[user]]
mail = "jane@example.com"
name = "Jane Doe"
ums = "ums1;fax.rights=national;fax.per_day=5;billing=K-17 \"Nord\"%3B x;fax.sender=123"
"#;

/// Where the harness keeps the worker's queues.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Queues {
    InMemory,
    OnDisk,
}

async fn harness(name: &str) -> Harness {
    harness_with(name, Queues::InMemory).await
}

async fn harness_with(name: &str, queues: Queues) -> Harness {
    harness_config(name, queues, CONFIG).await
}

/// [`harness_with`] for another configuration `text` (of the same shape as [`CONFIG`]).
async fn harness_config(name: &str, queues: Queues, text: &str) -> Harness {
    let dir = std::env::temp_dir().join(format!("umsgate-worker-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("users.toml"), USERS).unwrap();
    let path = dir.join("umsgate.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::parse(text, &path).unwrap();
    let inst = config.instances[0].clone();
    let dirs = InstanceDirs::new(&config.instance_state_dir(inst.id.get_ref()));
    dirs.create().unwrap();
    let plan = config.site.plan().unwrap();
    let logs = Arc::new(InstanceLogs::open(&dir.join("log"), config.service.log_rotate).unwrap());
    let (smtp_in, smtp_out) = match queues {
        Queues::InMemory => (
            Spool::in_memory(&dirs.smtp_in).unwrap(),
            Spool::in_memory(&dirs.smtp_out).unwrap(),
        ),
        Queues::OnDisk => (
            Spool::open(&dirs.smtp_in).unwrap().0,
            Spool::open(&dirs.smtp_out).unwrap().0,
        ),
    };
    let mailer = Delivery::new(
        "t".parse().unwrap(),
        &inst.mail,
        smtp_out,
        dirs.badmail.clone(),
        Arc::clone(&logs),
    )
    .unwrap();
    let out = Outbound {
        instance: "t".into(),
        plan: plan.clone(),
        smtp_in,
        mailer: Arc::new(mailer),
        directory: Arc::new(Directory::File(
            FileDirectory::open(&dir.join("users.toml"), plan.clone()).unwrap(),
        )),
        gateway: Arc::new(Gateway::open(&inst.gateway, &plan, &dirs.gateway).unwrap()),
        store: Store::open(&dir.join("umsgate.db")).await.unwrap(),
        reports: Arc::new(Reports::load(None).unwrap()),
        logs,
        jobs: JobRecords::open(&dirs.root.join("jobs")).unwrap(),
        hostname: "umsgate.test".into(),
        limits: mime::Limits::default(),
        renderer: Arc::new(umsgate_render::Renderer::new(
            umsgate_render::Limits::default(),
            dir.join("render"),
        )),
        covers: Arc::new(umsgate_render::cover::Covers::load(None).unwrap()),
        print: None,
        dirs,
        config: inst,
    };
    Harness {
        dir,
        out: Arc::new(out),
    }
}

const EML: &[u8] = b"From: jane@example.com\r\nTo: +4930111111@fax.example.com, \
+4930222222@fax.example.com\r\nSubject: offer\r\nMessage-ID: <m1@example.com>\r\n\r\nbody\r\n";

impl Harness {
    /// Queues [`EML`] as a pair (as the listener would) and returns its entry.
    async fn queue(&self) -> crate::spool::Entry {
        self.queue_as(QueueId::generate()).await
    }

    /// Queues [`EML`] under `id`.
    async fn queue_as(&self, id: QueueId) -> crate::spool::Entry {
        let sc = adopt::sidecar(&id, &"t".parse().unwrap(), crate::clock::now(), EML);
        self.out.smtp_in.store(sc, EML.to_vec()).await.unwrap();
        self.out.smtp_in.list().unwrap().remove(0)
    }

    fn sent_jobs(&self) -> Vec<String> {
        let p = self.out.dirs.gateway.join("sim/sent.jsonl");
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["job_id"].as_str().unwrap().to_owned()
            })
            .collect()
    }
}

fn sidecar_of(spool: &Spool, id: &QueueId) -> crate::spool::Sidecar {
    spool
        .list()
        .unwrap()
        .into_iter()
        .find(|e| &e.id == id)
        .and_then(|e| e.sidecar)
        .unwrap()
}

/// A state store that cannot be read stops the message — it never counts as "nothing sent
/// today" — and the attempt, its reason and the next try are in the sidecar.
#[tokio::test]
async fn a_store_that_cannot_be_read_keeps_the_message_with_its_retry_state() {
    let h = harness("store").await;
    let entry = h.queue().await;
    h.out.store.close().await;
    let err = h.out.process(&entry).await.unwrap_err();
    assert!(matches!(err, WorkError::Store(_)), "{err:?}");
    let sc = sidecar_of(&h.out.smtp_in, &entry.id);
    assert_eq!(sc.attempts, 1);
    assert!(
        sc.last_error
            .as_deref()
            .is_some_and(|e| e.contains("per-day counters")),
        "{sc:?}"
    );
    assert!(sc.next_attempt.is_some());
    assert!(sc.rcpts.iter().all(|r| r.is_pending()), "{sc:?}");
    assert!(h.sent_jobs().is_empty());
}

/// A message handled completely leaves the queue; each job carries its recipient's key.
#[tokio::test]
async fn every_recipient_handled_retires_the_message() {
    let h = harness("done").await;
    let entry = h.queue().await;
    h.out.process(&entry).await.unwrap();
    h.out.smtp_in.sync_removals().unwrap();
    assert!(h.out.smtp_in.list().unwrap().is_empty());
    assert_eq!(
        h.sent_jobs(),
        [format!("{}-0", entry.id), format!("{}-1", entry.id)]
    );
}

/// Each job is a line of msgid.log with the user's billing code (quoted: it is free text);
/// the engine gets the fax sender number combined with the site's number, and the origin
/// falls back to it.
#[tokio::test]
async fn every_job_logs_its_billing_code_and_carries_the_full_sender_number() {
    let h = harness("billing").await;
    let entry = h.queue().await;
    h.out.process(&entry).await.unwrap();
    let log = std::fs::read_to_string(h.dir.join("log/msgid.log")).unwrap();
    for n in 0..2 {
        let line = log
            .lines()
            .find(|l| l.contains(&format!("job id={}-{n} ", entry.id)))
            .unwrap_or_else(|| panic!("no job line in msgid.log:\n{log}"));
        assert!(
            line.ends_with(" sender=<jane@example.com> billing=\"K-17 \\\"Nord\\\"; x\""),
            "{line}"
        );
    }
    let p = h.out.dirs.gateway.join("sim/sent.jsonl");
    let sent = std::fs::read_to_string(p).unwrap();
    for l in sent.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["origin"], "+49 8142 4799123", "{l}");
        assert_eq!(v["billing"], "K-17 \"Nord\"; x", "{l}");
    }
}

/// A message handed over and then taken again (a removal lost to a crash, a retirement not
/// yet durable) is handed over under the same job ids, and the day's count does not grow:
/// the engine takes each job once, and the sender is not refused for a limit his first
/// hand-over used up.
#[tokio::test]
async fn a_message_taken_again_is_neither_sent_nor_counted_twice() {
    let h = harness("again").await;
    let entry = h.queue().await;
    h.out.process(&entry).await.unwrap();
    let count = || async {
        h.out
            .store
            .used_today("t", "jane@example.com", umsgate_domain::Service::Fax)
            .await
            .unwrap()
    };
    assert_eq!(count().await, 2);
    let again = h.queue_as(entry.id.clone()).await;
    h.out.process(&again).await.unwrap();
    assert_eq!(count().await, 2, "counted once per job");
    assert_eq!(
        h.sent_jobs(),
        [format!("{}-0", entry.id), format!("{}-1", entry.id)]
    );
}

/// A pair whose sidecar does not read (here a time that is not one) is never handled with an
/// envelope guessed from its headers: it goes to `smtp-in/corrupt/`, and no job is sent.
#[tokio::test]
async fn a_pair_with_an_unreadable_sidecar_goes_to_corrupt_without_jobs() {
    let h = harness_with("corrupt", Queues::OnDisk).await;
    let queued = h.queue().await;
    let json = queued.eml.with_extension("json");
    let text = std::fs::read_to_string(&json).unwrap();
    let bad = text.replacen("\"received_at\": \"", "\"received_at\": \"about ", 1);
    assert_ne!(bad, text);
    std::fs::write(&json, bad).unwrap();
    let entry = h.out.smtp_in.list().unwrap().remove(0);
    assert!(entry.sidecar.is_none());
    h.out.process(&entry).await.unwrap();
    assert!(h.sent_jobs().is_empty());
    assert!(h.out.smtp_in.list().unwrap().is_empty());
    let corrupt = h.out.smtp_in.dir().join(crate::spool::CORRUPT_DIR);
    assert_eq!(
        std::fs::read(corrupt.join(format!("{}.eml", entry.id))).unwrap(),
        EML
    );
    assert!(corrupt.join(format!("{}.json", entry.id)).exists());
}

/// Mail for umsgate's own mailbox (a read receipt) is kept for the administrator in
/// `smtp-in/error/` with the reason, and makes no job.
#[tokio::test]
async fn mail_for_umsgates_own_mailbox_is_archived_with_its_reason() {
    let h = harness("own").await;
    let id = h
        .out
        .smtp_in
        .drop_in(b"From: jane@example.com\r\nTo: ums@example.com\r\nSubject: Read: offer\r\n\r\nread\r\n".to_vec())
        .unwrap();
    let entry = h.out.smtp_in.list().unwrap().remove(0);
    h.out.process(&entry).await.unwrap();
    assert!(h.out.smtp_in.list().unwrap().is_empty());
    assert!(h.sent_jobs().is_empty());
    let archived = h.out.smtp_in.held(&h.out.dirs.smtp_in_error);
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].id, id);
    let sc = archived[0].sidecar.clone().unwrap();
    assert_eq!(
        sc.last_error.as_deref(),
        Some("mail for umsgate's own mailbox")
    );
    assert_eq!(sc.rcpts[0].address, "ums@example.com");
}

/// The `From:` of the report a refused job gets, with the general `display_name` and the
/// given `report_display_name` lines.
async fn report_from(name: &str, names: &str) -> String {
    let text = CONFIG.replace(
        "maildir = \"maildir/\"\n",
        &format!("maildir = \"maildir/\"\n{names}"),
    );
    let h = harness_config(name, Queues::InMemory, &text).await;
    // Jane may fax nationally only: an international number is refused with a report.
    let eml = b"From: jane@example.com\r\nTo: +14155550100@fax.example.com\r\nSubject: offer\r\nMessage-ID: <m2@example.com>\r\n\r\nbody\r\n";
    let id = QueueId::generate();
    let sc = adopt::sidecar(&id, &"t".parse().unwrap(), crate::clock::now(), eml);
    h.out.smtp_in.store(sc, eml.to_vec()).await.unwrap();
    let entry = h.out.smtp_in.list().unwrap().remove(0);
    h.out.process(&entry).await.unwrap();
    assert!(h.sent_jobs().is_empty());
    let new = h.dir.join("maildir/jane@example.com/new");
    let files: Vec<_> = std::fs::read_dir(&new)
        .unwrap_or_else(|e| panic!("no report in {}: {e}", new.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mail = std::fs::read_to_string(&files[0]).unwrap();
    mail.lines()
        .find(|l| l.starts_with("From: "))
        .unwrap_or_else(|| panic!("no From: in\n{mail}"))
        .trim_end()
        .to_owned()
}

/// Reports show `report_display_name`, or the general `display_name` when that is empty.
#[tokio::test]
async fn a_report_takes_the_general_display_name_when_its_own_is_empty() {
    assert_eq!(
        report_from("dn-general", "display_name = \"UMS Head office\"\n").await,
        "From: \"UMS Head office\" <ums@example.com>"
    );
    assert_eq!(
        report_from(
            "dn-report",
            "display_name = \"UMS Head office\"\nreport_display_name = \"UMS reports\"\n"
        )
        .await,
        "From: \"UMS reports\" <ums@example.com>"
    );
    assert_eq!(report_from("dn-none", "").await, "From: <ums@example.com>");
}

/// The files of a folder (none when it does not exist).
fn files_in(dir: &std::path::Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// With `store = "journal"` a job's delivery report is kept in the journal (durable and
/// indexed for its sender) and not mailed, while the error report of a refused job is still
/// mailed; with `"delete"` the delivery report is dropped. Either way the engine and the
/// job record forget the job only after that.
#[tokio::test]
async fn delivery_reports_follow_the_message_store_and_refusals_are_still_mailed() {
    for (name, store) in [("store-journal", "journal"), ("store-delete", "delete")] {
        let text = CONFIG
            .replace(
                "maildir = \"maildir/\"\n",
                &format!("maildir = \"maildir/\"\nstore = \"{store}\"\n"),
            )
            .replace("delay = \"1h\"", "delay = \"0s\"");
        let h = harness_config(name, Queues::InMemory, &text).await;
        // One national number (sent) and one international (Jane may not: refused).
        let eml = b"From: jane@example.com\r\nTo: +4930111111@fax.example.com, +14155550100@fax.example.com\r\nSubject: offer <b>\r\nMessage-ID: <m3@example.com>\r\n\r\nbody\r\n";
        let id = QueueId::generate();
        let sc = adopt::sidecar(&id, &"t".parse().unwrap(), crate::clock::now(), eml);
        h.out.smtp_in.store(sc, eml.to_vec()).await.unwrap();
        let entry = h.out.smtp_in.list().unwrap().remove(0);
        h.out.process(&entry).await.unwrap();
        assert_eq!(h.sent_jobs().len(), 1, "{store}");
        let mailbox = h.dir.join("maildir/jane@example.com/new");
        let mailed = files_in(&mailbox);
        assert_eq!(mailed.len(), 1, "{store}: the refusal is mailed");
        assert!(
            std::fs::read_to_string(&mailed[0])
                .unwrap()
                .contains("+14155550100")
        );

        // The engine completes the job (its `delay` is 0).
        let Gateway::Sim(sim) = &*h.out.gateway else {
            panic!("the simulated engine");
        };
        sim.complete_due();
        let reports = h.out.gateway.reports().await;
        assert_eq!(reports.len(), 1, "{store}");
        h.out.collect_report(&reports[0]).await.unwrap();
        assert_eq!(
            files_in(&mailbox).len(),
            1,
            "{store}: the delivery report is not mailed"
        );
        assert!(
            h.out.gateway.reports().await.is_empty(),
            "{store}: the engine forgot it"
        );
        let job = h.sent_jobs().remove(0);
        assert!(h.out.jobs.read(&job).await.unwrap().is_none(), "{store}");

        let (listed, total) = h
            .out
            .store
            .journal_list(&crate::store::JournalQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        let kept: Vec<PathBuf> = files_in(&h.out.dirs.journal)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        if store == "delete" {
            assert_eq!((total, kept.len()), (0, 0), "dropped");
            continue;
        }
        assert_eq!(total, 1);
        let e = &listed[0];
        assert_eq!(e.kind, crate::store::JournalKind::Report);
        assert_eq!(e.recipient, "jane@example.com");
        assert_eq!(e.service, umsgate_domain::Service::Fax);
        assert_eq!(e.called, "+4930111111");
        assert!(e.subject.contains("offer <b>"), "{}", e.subject);
        assert_eq!(kept, [h.out.dirs.journal.join(format!("{}.eml", e.id))]);
        let mail = std::fs::read(&kept[0]).unwrap();
        assert_eq!(e.size, mail.len() as u64);
        assert!(String::from_utf8_lossy(&mail).contains("jane@example.com"));
    }
}

/// With `store = "journal"`, the delivery report of a job sent `send_as` another user goes to
/// the original sender by mail: nobody in the directory, he could not read it in the portal.
#[tokio::test]
async fn a_report_for_a_sender_outside_the_directory_is_mailed_not_kept() {
    let text = CONFIG
        .replace(
            "maildir = \"maildir/\"\n",
            "maildir = \"maildir/\"\nstore = \"journal\"\n",
        )
        .replace("delay = \"1h\"", "delay = \"0s\"")
        + "\n[instance.defaults]\nunknown_sender = { action = \"send_as\", send_as = \"jane@example.com\", archive = false }\n";
    let h = harness_config("store-send-as", Queues::InMemory, &text).await;
    let eml = b"From: stranger@example.org\r\nTo: +4930111111@fax.example.com\r\nSubject: hello\r\nMessage-ID: <m4@example.org>\r\n\r\nbody\r\n";
    let id = QueueId::generate();
    let sc = adopt::sidecar(&id, &"t".parse().unwrap(), crate::clock::now(), eml);
    h.out.smtp_in.store(sc, eml.to_vec()).await.unwrap();
    let entry = h.out.smtp_in.list().unwrap().remove(0);
    h.out.process(&entry).await.unwrap();
    assert_eq!(h.sent_jobs().len(), 1);
    let Gateway::Sim(sim) = &*h.out.gateway else {
        panic!("the simulated engine");
    };
    sim.complete_due();
    let reports = h.out.gateway.reports().await;
    assert_eq!(reports.len(), 1);
    h.out.collect_report(&reports[0]).await.unwrap();
    let mailed = files_in(&h.dir.join("maildir/stranger@example.org/new"));
    assert_eq!(mailed.len(), 1, "mailed to the original sender");
    assert!(
        std::fs::read_to_string(&mailed[0])
            .unwrap()
            .contains("+4930111111")
    );
    let (_, total) = h
        .out
        .store
        .journal_list(&crate::store::JournalQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 0, "nothing kept");
}
