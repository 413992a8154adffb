//! How the external converters (LibreOffice, Chromium) are started and stopped.
//!
//! Contract:
//! - Every converter runs in a process group of its own ([`command`]), so [`kill_group`]
//!   reaches whatever it started (soffice's `oosplash` and `soffice.bin`, Chromium's zygote
//!   and renderers), not only the process umsgate spawned.
//! - Without network when the system allows it: [`network_namespace`] finds out once whether
//!   `unshare --net` works (root, or `CAP_SYS_ADMIN`); then the converter runs in a network
//!   namespace of its own, whose only interface (loopback) is down: no remote link, image,
//!   font or script can load, nor any host port be reached. Where it does not work the
//!   converters fall back on their own settings (Chromium's dead proxy and resolver rules,
//!   LibreOffice's profile and load options), and a warning says so once.
//! - The environment is cleared: `HOME` and `TMPDIR` point into the converter's own folder.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;
use tokio::sync::OnceCell;

/// The program that puts a command into a new network namespace (util-linux).
const UNSHARE: &str = "unshare";
/// The `PATH` converters run with.
const CONVERTER_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Whether converters run in a network namespace of their own (probed once per process).
pub(crate) async fn network_namespace() -> bool {
    static PROBE: OnceCell<bool> = OnceCell::const_new();
    *PROBE
        .get_or_init(|| async {
            let works = Command::new(UNSHARE)
                .args(["--net", "--", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .status()
                .await
                .is_ok_and(|s| s.success());
            if !works {
                tracing::warn!(
                    event = "render.no_network_namespace",
                    "`unshare --net` does not work here (needs root or CAP_SYS_ADMIN): the \
                     converters keep remote content out by their own settings only"
                );
            }
            works
        })
        .await
}

/// A command for `program`, in its own process group, inside a new network namespace if
/// `isolate`, with a cleared environment whose `HOME` and `TMPDIR` are `home`; standard
/// streams closed (the caller pipes what it talks over).
pub(crate) fn command(program: &Path, isolate: bool, home: &Path) -> Command {
    let mut cmd = if isolate {
        let mut c = Command::new(UNSHARE);
        c.arg("--net").arg("--").arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.env_clear()
        .env("PATH", CONVERTER_PATH)
        .env("LANG", "C.UTF-8")
        .env("HOME", home)
        .env("TMPDIR", home)
        .process_group(0)
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Kills every process of the group `leader` leads (see [`command`]); a group that is
/// already gone is not an error.
pub(crate) fn kill_group(leader: u32) {
    let Some(pid) = i32::try_from(leader)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    if let Err(e) = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL)
        && e != rustix::io::Errno::SRCH
    {
        tracing::warn!(event = "render.kill_failed", pid = leader, error = %e);
    }
}

/// umsgate runs as root: Chromium's own sandbox cannot start then (`--no-sandbox`).
pub(crate) fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Whether `program` exists: an absolute or relative path as given, a bare name on the
/// `PATH` the converters get (see [`command`]). Checked before starting, because inside
/// `unshare` a missing program is only an exit status.
pub(crate) fn installed(program: &Path) -> bool {
    if program.components().count() > 1 {
        return program.is_file();
    }
    CONVERTER_PATH
        .split(':')
        .any(|dir| Path::new(dir).join(program).is_file())
}
