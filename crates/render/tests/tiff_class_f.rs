//! TIFF class F output against the reference tools: libtiff (`tiffinfo`, `tiff2pdf`) reads
//! what `text_to_tiff` and `join` write, and Ghostscript turns PDFs into pages that join with
//! text pages. Needs `libtiff-tools`, `poppler-utils` and `ghostscript` (in `.ci/run`); a
//! missing tool fails the test, naming its package.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use umsgate_render::layout::{Geometry, paginate};
use umsgate_render::tiff::{TiffCoding, join, pdf_to_tiff, text_to_tiff};
use umsgate_render::{ConvertError, Limits};

/// A fresh scratch folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "umsgate-render-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a reference tool; its absence is a failure that names the Debian package.
fn tool(name: &str, package: &str, args: &[&Path]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name} ({e}): apt-get install {package}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{name} {args:?} failed: {text}");
    text
}

fn pdf_pages(pdf: &Path) -> u32 {
    let info = tool("pdfinfo", "poppler-utils", &[pdf]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in {info}"))
}

const TEXT: &str = "Fax for umsgate\nLine two\x0cPage two\x0cPage three\n";

#[test]
fn libtiff_reads_text_pages_in_both_codings() {
    let dir = Scratch::new("libtiff");
    let pages = paginate(TEXT, Geometry::default());
    for (coding, scheme) in [
        (TiffCoding::G4, "CCITT Group 4"),
        (TiffCoding::G3, "CCITT Group 3"),
    ] {
        let tif = dir.path("text.tif");
        std::fs::write(&tif, text_to_tiff(&pages, coding).unwrap()).unwrap();
        // -D decodes every strip: libtiff complains on stderr about any coding error.
        let info = tool("tiffinfo", "libtiff-tools", &[Path::new("-D"), &tif]);
        assert!(!info.to_lowercase().contains("error"), "{info}");
        assert!(!info.to_lowercase().contains("warning"), "{info}");
        assert_eq!(info.matches(scheme).count(), 3, "{info}");
        assert_eq!(
            info.matches("Image Width: 1728 Image Length: 2292").count(),
            3
        );
        assert_eq!(info.matches("Resolution: 204, 196 pixels/inch").count(), 3);
        let pdf = dir.path("text.pdf");
        tool("tiff2pdf", "libtiff-tools", &[Path::new("-o"), &pdf, &tif]);
        assert_eq!(pdf_pages(&pdf), 3);
    }
}

fn limits() -> Limits {
    Limits {
        max_pages: 10,
        timeout: Duration::from_secs(60),
        ..Limits::default()
    }
}

/// A three-page PDF: the text pages through libtiff's tiff2pdf.
fn three_page_pdf(dir: &Scratch) -> Vec<u8> {
    let tif = dir.path("src.tif");
    let pdf = dir.path("src.pdf");
    let pages = paginate(TEXT, Geometry::default());
    std::fs::write(&tif, text_to_tiff(&pages, TiffCoding::G4).unwrap()).unwrap();
    tool("tiff2pdf", "libtiff-tools", &[Path::new("-o"), &pdf, &tif]);
    std::fs::read(&pdf).unwrap()
}

#[tokio::test]
async fn ghostscript_pages_are_class_f_and_join_with_text_pages() {
    let dir = Scratch::new("gs");
    let pdf = three_page_pdf(&dir);
    let work = dir.path("work");
    std::fs::create_dir(&work).unwrap();
    for coding in [TiffCoding::G4, TiffCoding::G3] {
        let tiff = pdf_to_tiff(&pdf, coding, &limits(), &work).await.unwrap();
        let info = umsgate_fax::tiff_pages(&tiff, &umsgate_fax::Limits::default()).unwrap();
        assert_eq!(info.len(), 3);
        for p in &info {
            assert_eq!((p.width, p.height), (1728, 2292), "{coding:?}");
            assert_eq!(p.dpi(), (204.0, 196.0));
            assert_eq!(p.fill_order, umsgate_fax::FillOrder::MsbFirst);
            match (coding, p.coding) {
                (TiffCoding::G4, umsgate_fax::Coding::Group4 { .. }) => {}
                (TiffCoding::G3, umsgate_fax::Coding::Group3 { two_d: false, .. }) => {}
                other => panic!("{other:?}"),
            }
        }
        // Text pages first, then the Ghostscript pages: one file libtiff reads.
        let text = text_to_tiff(&paginate("cover", Geometry::default()), coding).unwrap();
        let joined = join(&[&text, &tiff]).unwrap();
        let tif = dir.path("joined.tif");
        std::fs::write(&tif, &joined).unwrap();
        let out = tool("tiffinfo", "libtiff-tools", &[Path::new("-D"), &tif]);
        assert!(!out.to_lowercase().contains("error"), "{out}");
        assert_eq!(umsgate_fax::page_count(&joined).unwrap(), 4);
        let out_pdf = dir.path("joined.pdf");
        tool(
            "tiff2pdf",
            "libtiff-tools",
            &[Path::new("-o"), &out_pdf, &tif],
        );
        assert_eq!(pdf_pages(&out_pdf), 4);
    }
    // Every run cleaned its folder up.
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0);
}

#[tokio::test]
async fn ghostscript_failures_are_typed_and_leave_nothing_behind() {
    let dir = Scratch::new("gs-fail");
    let work = dir.path("work");
    std::fs::create_dir(&work).unwrap();
    let broken = pdf_to_tiff(
        b"%PDF-1.4\nnot a pdf at all",
        TiffCoding::G4,
        &limits(),
        &work,
    )
    .await;
    assert!(matches!(broken, Err(ConvertError::Failed(_))), "{broken:?}");

    let pdf = three_page_pdf(&dir);
    let two = Limits {
        max_pages: 2,
        ..limits()
    };
    let long = pdf_to_tiff(&pdf, TiffCoding::G4, &two, &work).await;
    assert!(matches!(long, Err(ConvertError::TooLarge(_))), "{long:?}");

    // Ghostscript cannot even start within a millisecond: it is killed.
    let quick = Limits {
        timeout: Duration::from_millis(1),
        ..limits()
    };
    let late = pdf_to_tiff(&pdf, TiffCoding::G4, &quick, &work).await;
    assert!(matches!(late, Err(ConvertError::Timeout)), "{late:?}");

    // The work folder is made when it does not exist yet…
    let fresh = dir.path("made-on-demand");
    let made = pdf_to_tiff(&pdf, TiffCoding::G4, &limits(), &fresh).await;
    assert!(made.is_ok(), "{made:?}");
    // …and one that cannot be made (a file is in the way) is a temporary failure.
    std::fs::write(dir.path("a-file"), b"x").unwrap();
    let blocked = pdf_to_tiff(
        &pdf,
        TiffCoding::G4,
        &limits(),
        &dir.path("a-file").join("sub"),
    )
    .await;
    assert!(
        matches!(blocked, Err(ConvertError::Unavailable(_))),
        "{blocked:?}"
    );
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0);
}
