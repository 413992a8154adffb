//! Any PDF → TIFF class F through Ghostscript (`tiffg4` / `tiffg3` devices), the way HylaFAX
//! rasterises documents: 1728 × 2292 pixels at 204 × 196 dpi, the page scaled to fit.
//!
//! Contract: [`pdf_to_tiff`] runs `gs -dSAFER` on a copy of the PDF in a folder of its own
//! under `work_dir` (removed afterwards, also on failure), with no input and its output
//! captured, killed at `limits.timeout`. It asks for at most `limits.max_pages + 1` pages
//! and refuses more than `limits.max_pages` ([`ConvertError::TooLarge`]). The result is read
//! back with `umsgate_fax` before it is returned, so a TIFF that leaves here is one the rest of
//! umsgate reads. A missing `gs` is [`ConvertError::Unavailable`]; a PDF Ghostscript
//! refuses is [`ConvertError::Failed`] with the first line of its complaint.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::process::Command;

use super::TiffCoding;
use crate::{ConvertError, Limits};

/// Largest TIFF read back from Ghostscript, bytes.
const MAX_OUTPUT: u64 = 256 << 20;

static RUN: AtomicU64 = AtomicU64::new(0);

/// A work folder removed when dropped.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(event = "render.tiff.cleanup", dir = %self.0.display(), error = %e);
        }
    }
}

/// Rasterises `pdf` into a multi-page TIFF class F, G4 or G3 (1-D) as `coding` says.
pub async fn pdf_to_tiff(
    pdf: &[u8],
    coding: TiffCoding,
    limits: &Limits,
    work_dir: &Path,
) -> Result<Vec<u8>, ConvertError> {
    let dir = work_dir.join(format!(
        "gs-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    tokio::fs::create_dir_all(work_dir).await.map_err(|e| {
        ConvertError::Unavailable(format!("cannot create {}: {e}", work_dir.display()))
    })?;
    tokio::fs::create_dir(&dir)
        .await
        .map_err(|e| ConvertError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
    let dir = WorkDir(dir);
    let input = dir.0.join("in.pdf");
    let output = dir.0.join("out.tif");
    tokio::fs::write(&input, pdf)
        .await
        .map_err(|e| ConvertError::Unavailable(format!("cannot write {}: {e}", input.display())))?;
    let device = match coding {
        TiffCoding::G4 => "-sDEVICE=tiffg4",
        TiffCoding::G3 => "-sDEVICE=tiffg3",
    };
    let mut cmd = Command::new("gs");
    cmd.args([
        "-q",
        "-dSAFER",
        "-dBATCH",
        "-dNOPAUSE",
        "-dNOINTERPOLATE",
        device,
        "-r204x196",
        "-g1728x2292",
        "-dFIXEDMEDIA",
        "-dPDFFitPage",
        "-dFillOrder=1",
        "-dMaxStripSize=0",
    ])
    .arg(format!("-dLastPage={}", limits.max_pages.saturating_add(1)))
    .arg(format!("-sOutputFile={}", output.display()))
    .arg("-f")
    .arg(&input)
    .current_dir(&dir.0)
    .env("TMPDIR", &dir.0)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| ConvertError::Unavailable(format!("cannot start gs: {e}")))?;
    let done = tokio::time::timeout(limits.timeout, child.wait_with_output())
        .await
        .map_err(|_| ConvertError::Timeout)?
        .map_err(|e| ConvertError::Unavailable(format!("gs: {e}")))?;
    if !done.status.success() {
        let complaint = String::from_utf8_lossy(&done.stderr);
        let first = complaint
            .lines()
            .chain(String::from_utf8_lossy(&done.stdout).lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no message")
            .chars()
            .take(200)
            .collect::<String>();
        return Err(ConvertError::Failed(format!("gs {}: {first}", done.status)));
    }
    let size = tokio::fs::metadata(&output)
        .await
        .map_err(|e| ConvertError::Failed(format!("gs wrote no output: {e}")))?
        .len();
    if size > MAX_OUTPUT {
        return Err(ConvertError::TooLarge(format!("{size} bytes of TIFF")));
    }
    let tiff = tokio::fs::read(&output)
        .await
        .map_err(|e| ConvertError::Failed(format!("cannot read the output: {e}")))?;
    let pages = umsgate_fax::tiff_pages(&tiff, &umsgate_fax::Limits::default())
        .map_err(|e| ConvertError::Failed(format!("gs wrote an unreadable TIFF: {e}")))?;
    if pages.len() > limits.max_pages as usize {
        return Err(ConvertError::TooLarge(format!(
            "more than {} pages",
            limits.max_pages
        )));
    }
    Ok(tiff)
}
