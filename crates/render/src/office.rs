//! Office and OpenDocument files → PDF through a resident ("warm") LibreOffice.
//!
//! Contract:
//! - [`OfficeConverter::new`] starts nothing; the first conversion starts the resident
//!   converter, later ones reuse it. A converter that died or hung is killed and started
//!   again; the conversion that found it dead answers [`ConvertError::Unavailable`] (the job
//!   is retried), never a wrong refusal. One whose helper process is already gone when a
//!   conversion begins is restarted at once.
//! - Each conversion is bounded by `timeout` (starting the converter, by `start_timeout`);
//!   at the limit the converter is killed and the conversion answers
//!   [`ConvertError::Timeout`]. Inputs above `max_input_bytes`, results above
//!   `max_output_bytes` or `max_pages` answer [`ConvertError::TooLarge`].
//! - LibreOffice runs with no network (see [`sandbox`]), with its own profile and temporary
//!   folder under `work_dir`, never runs macros nor updates links, and never sees the
//!   sender's file name: each document is written as `in.<ext>` into a fresh folder under
//!   `work_dir/jobs/`, removed after the conversion.
//! - Safe to share (`&self`) across tasks; conversions are serialised inside (one soffice).
//!
//! Implementation summary: umsgate does not speak UNO itself. A small Python helper
//! (`office/helper.py`, embedded in the binary and written to `work_dir` at each start) is
//! run with the Python that has the `uno` module (Debian: `/usr/bin/python3` +
//! `python3-uno`). It starts `soffice --headless --invisible --nologo --norestore
//! --nodefault --accept=pipe,…` with `-env:UserInstallation=` pointing into `work_dir`,
//! connects over the UNO pipe, and then answers one line per request on its standard
//! streams (`CONVERT <in> <out>` → `OK` / `ERR <text>` / `DEAD <text>`): it loads the document
//! hidden and read-only (`UpdateDocMode` = no update, `MacroExecutionMode` = never) and stores
//! it with the PDF export filter of its kind. The helper, soffice and everything soffice
//! starts share one process group, killed as a whole on timeout, on a `DEAD` answer and when
//! the converter is dropped; the helper also stops soffice when its standard input ends.
//!
//! Why one soffice rather than a pool: LibreOffice's document model is effectively
//! single-threaded, and the machines umsgate runs on have few cores shared with the mail
//! path; a pool would multiply memory (~150 MB resident each) for little gain. The page
//! count of every result is taken from the PDF itself.

mod detect;
pub(crate) mod sandbox;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Mutex;

use crate::ConvertError;

/// The helper that drives LibreOffice over UNO (see the module documentation).
const HELPER: &str = include_str!("office/helper.py");
/// Its file name in `work_dir`.
const HELPER_FILE: &str = "umsgate-office-helper.py";
/// LibreOffice settings written into a new profile: macros off, no remote referer links,
/// and a dead proxy for whatever still tries the network when no network namespace is
/// available (see [`sandbox`]).
const PROFILE_SETTINGS: &str = include_str!("office/registrymodifications.xcu");
/// The longest answer line the helper may send.
const MAX_LINE: u64 = 4096;
/// The document [`OfficeConverter::check`] converts.
const CHECK_RTF: &[u8] = b"{\\rtf1\\ansi umsgate converter check\\par}";

/// The document formats LibreOffice renders for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfficeFormat {
    Docx,
    Xlsx,
    Pptx,
    Doc,
    Xls,
    Ppt,
    Rtf,
    Odt,
    Ods,
    Odp,
}

impl OfficeFormat {
    /// The format of an attachment, from its bytes first, then its declared type, then the
    /// suffix of its display name. `None`: not an Office/OpenDocument file. See
    /// `office/detect.rs` for the rules.
    pub fn detect(data: &[u8], content_type: &str, name: Option<&str>) -> Option<OfficeFormat> {
        detect::detect(data, content_type, name)
    }

    /// The file suffix LibreOffice knows this format by (the converter's input is
    /// `in.<suffix>`).
    pub fn suffix(self) -> &'static str {
        match self {
            OfficeFormat::Docx => "docx",
            OfficeFormat::Xlsx => "xlsx",
            OfficeFormat::Pptx => "pptx",
            OfficeFormat::Doc => "doc",
            OfficeFormat::Xls => "xls",
            OfficeFormat::Ppt => "ppt",
            OfficeFormat::Rtf => "rtf",
            OfficeFormat::Odt => "odt",
            OfficeFormat::Ods => "ods",
            OfficeFormat::Odp => "odp",
        }
    }

    /// A ZIP package (OOXML or OpenDocument).
    fn is_zip(self) -> bool {
        matches!(
            self,
            OfficeFormat::Docx
                | OfficeFormat::Xlsx
                | OfficeFormat::Pptx
                | OfficeFormat::Odt
                | OfficeFormat::Ods
                | OfficeFormat::Odp
        )
    }

    /// An OLE2 compound file (the binary Office formats).
    fn is_ole2(self) -> bool {
        matches!(
            self,
            OfficeFormat::Doc | OfficeFormat::Xls | OfficeFormat::Ppt
        )
    }
}

/// Where and how the converter runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeConfig {
    /// The `soffice` program.
    pub program: PathBuf,
    /// Profile and temporary files of the converter (created, owned by umsgate).
    pub work_dir: PathBuf,
    /// Longest one conversion may take.
    pub timeout: Duration,
    /// The Python that has LibreOffice's `uno` module and runs the helper.
    pub python: PathBuf,
    /// Longest starting the converter may take (not counted in `timeout`).
    pub start_timeout: Duration,
    /// Largest document accepted, in bytes.
    pub max_input_bytes: u64,
    /// Largest PDF accepted from the converter, in bytes.
    pub max_output_bytes: u64,
    /// Most pages one document may become.
    pub max_pages: u32,
}

impl OfficeConfig {
    /// `program` with `work_dir` and the default limits: 60 s per conversion, 60 s to start,
    /// 50 MB in, 200 MB out, 200 pages, Debian's `/usr/bin/python3`.
    pub fn new(program: impl Into<PathBuf>, work_dir: impl Into<PathBuf>) -> OfficeConfig {
        OfficeConfig {
            program: program.into(),
            work_dir: work_dir.into(),
            timeout: Duration::from_secs(60),
            python: PathBuf::from("/usr/bin/python3"),
            start_timeout: Duration::from_secs(60),
            max_input_bytes: 50_000_000,
            max_output_bytes: 200_000_000,
            max_pages: 200,
        }
    }
}

/// The resident LibreOffice converter.
#[derive(Debug)]
pub struct OfficeConverter {
    config: OfficeConfig,
    resident: Mutex<Option<Resident>>,
    /// Process id of the running helper (the process group's leader), 0 when none runs.
    pid: AtomicU32,
    starts: AtomicU64,
}

impl OfficeConverter {
    pub fn new(config: OfficeConfig) -> OfficeConverter {
        OfficeConverter {
            config,
            resident: Mutex::new(None),
            pid: AtomicU32::new(0),
            starts: AtomicU64::new(0),
        }
    }

    /// Converts one document to PDF.
    pub async fn to_pdf(&self, data: &[u8], format: OfficeFormat) -> Result<Vec<u8>, ConvertError> {
        let cfg = &self.config;
        if data.len() as u64 > cfg.max_input_bytes {
            return Err(ConvertError::TooLarge(format!(
                "document of {} bytes (limit {})",
                data.len(),
                cfg.max_input_bytes
            )));
        }
        let jobs = cfg.work_dir.join("jobs");
        let job = make_job_dir(&jobs).await?;
        let input = job.path().join(format!("in.{}", format.suffix()));
        let output = job.path().join("out.pdf");
        tokio::fs::write(&input, data)
            .await
            .map_err(|e| unavailable(format!("cannot write {}: {e}", input.display())))?;

        let mut slot = self.resident.lock().await;
        if slot.as_mut().is_some_and(|r| r.exited()) {
            tracing::warn!(
                event = "render.office.gone",
                "the converter had stopped; restarting it"
            );
            self.stop(&mut slot);
        }
        let resident = match &mut *slot {
            Some(r) => r,
            None => slot.insert(self.start().await?),
        };
        let reply = tokio::time::timeout(cfg.timeout, resident.convert(&input, &output)).await;
        let reply = match reply {
            Err(_) => {
                tracing::warn!(
                    event = "render.office.timeout",
                    timeout_ms = cfg.timeout.as_millis() as u64,
                    "killing the converter"
                );
                self.stop(&mut slot);
                return Err(ConvertError::Timeout);
            }
            Ok(Err(e)) => {
                self.stop(&mut slot);
                return Err(unavailable(format!("the converter stopped: {e}")));
            }
            Ok(Ok(reply)) => reply,
        };
        match reply {
            Reply::Done => {}
            Reply::Refused(text) => return Err(ConvertError::Failed(text)),
            Reply::Dead(text) => {
                self.stop(&mut slot);
                return Err(unavailable(text));
            }
        }
        drop(slot);
        read_pdf(&output, cfg.max_output_bytes, cfg.max_pages).await
    }

    /// Starts the converter if needed and converts a tiny document: for `umsgate check`.
    pub async fn check(&self) -> Result<(), ConvertError> {
        let pdf = self.to_pdf(CHECK_RTF, OfficeFormat::Rtf).await?;
        match umsgate_fax::page_count(&pdf) {
            Ok(n) if n >= 1 => Ok(()),
            _ => Err(ConvertError::Failed(
                "the check document did not become a PDF page".to_owned(),
            )),
        }
    }

    /// Process id of the running helper, the leader of the converter's process group (soffice
    /// runs in it); `None` when no converter runs.
    pub fn process_id(&self) -> Option<u32> {
        match self.pid.load(Ordering::Relaxed) {
            0 => None,
            pid => Some(pid),
        }
    }

    /// How many times the converter has been started.
    pub fn starts(&self) -> u64 {
        self.starts.load(Ordering::Relaxed)
    }

    fn stop(&self, slot: &mut Option<Resident>) {
        // dropping kills the process group
        slot.take();
        self.pid.store(0, Ordering::Relaxed);
    }

    async fn start(&self) -> Result<Resident, ConvertError> {
        let cfg = &self.config;
        for program in [&cfg.python, &cfg.program] {
            if !sandbox::installed(program) {
                return Err(unavailable(format!(
                    "{} is not installed",
                    program.display()
                )));
            }
        }
        let n = self.starts.fetch_add(1, Ordering::Relaxed) + 1;
        let work = &cfg.work_dir;
        let profile = work.join("profile");
        let tmp = work.join("tmp");
        for dir in [&profile.join("user"), &tmp] {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let settings = profile.join("user").join("registrymodifications.xcu");
        if tokio::fs::metadata(&settings).await.is_err() {
            write_file(&settings, PROFILE_SETTINGS.as_bytes()).await?;
        }
        let helper = work.join(HELPER_FILE);
        write_file(&helper, HELPER.as_bytes()).await?;
        let profile_url = file_url(&profile)?;
        // unique on this host: several converters may run in one process, and the pipe's
        // socket lives in the host's file system whatever the network namespace
        static PIPES: AtomicU64 = AtomicU64::new(0);
        let pipe = format!(
            "umsgate-office-{}-{}",
            std::process::id(),
            PIPES.fetch_add(1, Ordering::Relaxed)
        );
        let isolate = sandbox::network_namespace().await;

        let mut cmd = sandbox::command(&cfg.python, isolate, &tmp);
        cmd.arg(&helper)
            .arg(&cfg.program)
            .arg(&profile_url)
            .arg(&pipe)
            .arg(cfg.start_timeout.as_secs().max(1).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| unavailable(format!("cannot start {}: {e}", cfg.python.display())))?;
        let (Some(pid), Some(stdin), Some(stdout)) =
            (child.id(), child.stdin.take(), child.stdout.take())
        else {
            return Err(unavailable(
                "the converter started without its pipes".to_owned(),
            ));
        };
        let mut resident = Resident {
            child,
            pid,
            stdin,
            stdout: BufReader::new(stdout),
        };
        // the helper gives up after start_timeout itself; this bounds a helper that hangs
        let ready = tokio::time::timeout(
            cfg.start_timeout + Duration::from_secs(5),
            resident.read_reply(),
        )
        .await;
        match ready {
            Ok(Ok(Reply::Done)) => {
                self.pid.store(pid, Ordering::Relaxed);
                tracing::info!(
                    event = "render.office.started",
                    pid,
                    starts = n,
                    network_namespace = isolate
                );
                Ok(resident)
            }
            Ok(Ok(Reply::Dead(t) | Reply::Refused(t))) => {
                Err(unavailable(format!("LibreOffice did not start: {t}")))
            }
            Ok(Err(e)) => Err(unavailable(format!(
                "LibreOffice did not start (is {} with python3-uno installed?): {e}",
                cfg.python.display()
            ))),
            Err(_) => Err(unavailable("LibreOffice did not start in time".to_owned())),
        }
    }
}

/// One running helper with its soffice.
#[derive(Debug)]
struct Resident {
    child: Child,
    pid: u32,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// The helper's answer to a request (or to its start: `READY` is [`Reply::Done`]).
#[derive(Debug)]
enum Reply {
    Done,
    Refused(String),
    Dead(String),
}

impl Resident {
    fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    async fn convert(&mut self, input: &Path, output: &Path) -> std::io::Result<Reply> {
        let request = format!("CONVERT\t{}\t{}\n", input.display(), output.display());
        self.stdin.write_all(request.as_bytes()).await?;
        self.stdin.flush().await?;
        self.read_reply().await
    }

    async fn read_reply(&mut self) -> std::io::Result<Reply> {
        let mut line = String::new();
        let n = (&mut self.stdout)
            .take(MAX_LINE)
            .read_line(&mut line)
            .await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the helper exited",
            ));
        }
        let line = line.trim_end();
        let (word, text) = line.split_once(' ').unwrap_or((line, ""));
        Ok(match word {
            "OK" | "READY" => Reply::Done,
            "ERR" => Reply::Refused(text.to_owned()),
            "DEAD" => Reply::Dead(text.to_owned()),
            _ => Reply::Dead(format!("unexpected answer from the helper: {line:.200}")),
        })
    }
}

impl Drop for Resident {
    fn drop(&mut self) {
        sandbox::kill_group(self.pid);
        let _ = self.child.start_kill();
    }
}

fn unavailable(text: String) -> ConvertError {
    ConvertError::Unavailable(text)
}

/// A fresh folder for one conversion under `jobs`, removed when dropped.
pub(crate) async fn make_job_dir(jobs: &Path) -> Result<tempfile::TempDir, ConvertError> {
    tokio::fs::create_dir_all(jobs)
        .await
        .map_err(|e| unavailable(format!("cannot create {}: {e}", jobs.display())))?;
    let jobs = jobs.to_owned();
    let made =
        tokio::task::spawn_blocking(move || tempfile::Builder::new().prefix("c").tempdir_in(&jobs))
            .await;
    match made {
        Ok(Ok(dir)) => Ok(dir),
        Ok(Err(e)) => Err(unavailable(format!("cannot create a job folder: {e}"))),
        Err(e) => Err(unavailable(format!("cannot create a job folder: {e}"))),
    }
}

async fn write_file(path: &Path, data: &[u8]) -> Result<(), ConvertError> {
    tokio::fs::write(path, data)
        .await
        .map_err(|e| unavailable(format!("cannot write {}: {e}", path.display())))
}

/// `file://` URL of an absolute path without characters that would need escaping.
pub(crate) fn file_url(path: &Path) -> Result<String, ConvertError> {
    let text = path.to_str().filter(|p| {
        p.starts_with('/')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    });
    match text {
        Some(p) => Ok(format!("file://{p}")),
        None => Err(unavailable(format!(
            "the work folder {} must be an absolute path of letters, digits and /._-+",
            path.display()
        ))),
    }
}

/// Reads a converter's PDF, within the limits, and checks its page count.
pub(crate) async fn read_pdf(
    path: &Path,
    max_bytes: u64,
    max_pages: u32,
) -> Result<Vec<u8>, ConvertError> {
    let size = match tokio::fs::metadata(path).await {
        Ok(m) => m.len(),
        Err(e) => return Err(ConvertError::Failed(format!("no PDF was written: {e}"))),
    };
    if size > max_bytes {
        return Err(ConvertError::TooLarge(format!(
            "PDF of {size} bytes (limit {max_bytes})"
        )));
    }
    let pdf = tokio::fs::read(path)
        .await
        .map_err(|e| ConvertError::Failed(format!("cannot read the PDF: {e}")))?;
    let mut limits = umsgate_fax::Limits::default();
    limits.max_input_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    limits.max_pages = max_pages;
    match umsgate_fax::page_count_with(&pdf, &limits) {
        Ok(_) => {}
        Err(e) if e.kind() == umsgate_fax::ErrorKind::LimitExceeded => {
            return Err(ConvertError::TooLarge(format!(
                "more than {max_pages} pages ({e})"
            )));
        }
        Err(e) => {
            return Err(ConvertError::Failed(format!(
                "the result is not a readable PDF: {e}"
            )));
        }
    }
    Ok(pdf)
}
