//! Shared helpers of the integration tests: sample paths, scratch directories, running the
//! external reference tools (libtiff-tools, poppler-utils) and comparing renderings.
//!
//! Contract: a missing tool is a test *failure* with a message naming the Debian package,
//! never a skipped test.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub const SAMPLES: [&str; 4] = [
    "fax_1p_g3_1d",
    "fax_3p_g3_2d",
    "fax_3p_g4",
    "fax_20p_g4_perf",
];

/// Read at run time (cargo sets `CARGO_MANIFEST_DIR` for tests), so that a test binary reused
/// from a shared target folder built in another checkout still finds this checkout's files.
pub fn samples_dir() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../testdata/samples")
}

pub fn sample(name: &str) -> PathBuf {
    samples_dir().join(format!("{name}.tif"))
}

pub fn read_sample(name: &str) -> Vec<u8> {
    let p = sample(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read sample {}: {e}", p.display()))
}

/// A fresh scratch directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "umsgate-fax-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn package_of(tool: &str) -> &'static str {
    match tool {
        "tiff2pdf" | "tiffcp" | "tiffinfo" | "tiffset" => "libtiff-tools",
        _ => "poppler-utils",
    }
}

/// Runs an external tool and returns its stdout; panics (fails the test) with a clear message
/// if the tool is missing or fails.
pub fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!(
            "required tool `{tool}` could not be run ({e}); install the Debian package `{}` (apt-get install {})",
            package_of(tool),
            package_of(tool)
        )
    });
    assert!(
        out.status.success(),
        "`{tool} {}` failed: {}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `pdfinfo` fields: (pages, "W x H" of the first page).
pub fn pdfinfo(pdf: &Path) -> (u32, String) {
    let out = run("pdfinfo", &[s(pdf)]);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("pdfinfo output has no `{name}`:\n{out}"))
    };
    let pages = field("Pages:").parse().unwrap();
    let size = field("Page size:");
    (pages, size)
}

/// The `enc` column of `pdfimages -list`, one entry per image.
pub fn image_encodings(pdf: &Path) -> Vec<String> {
    let out = run("pdfimages", &["-list", s(pdf)]);
    out.lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().nth(8).map(str::to_string))
        .collect()
}

/// A binary or gray PNM image.
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

pub fn read_pgm(path: &Path) -> Gray {
    let data = std::fs::read(path).unwrap();
    // Header: "P5\n<w> <h>\n255\n"
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&data[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P5", "{} is not a binary PGM", path.display());
    let (width, height) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = data[i + 1..].to_vec();
    assert_eq!(pixels.len(), width * height, "{}", path.display());
    Gray {
        width,
        height,
        pixels,
    }
}

/// Renders every page of a PDF with `pdftoppm -gray` at `dpi`; returns the pages in order.
pub fn render(pdf: &Path, dir: &Scratch, prefix: &str, dpi: u32) -> Vec<Gray> {
    let root = dir.path(prefix);
    run(
        "pdftoppm",
        &["-gray", "-r", &dpi.to_string(), s(pdf), s(&root)],
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{prefix}-")) && n.ends_with(".pgm"))
        })
        .collect();
    // pdftoppm pads page numbers to equal width, so names sort in page order.
    files.sort();
    files.iter().map(|p| read_pgm(p)).collect()
}

/// Fraction of pixels that differ between two renderings of the same size.
pub fn diff_fraction(a: &Gray, b: &Gray) -> f64 {
    assert_eq!(
        (a.width, a.height),
        (b.width, b.height),
        "rendered page sizes differ"
    );
    let n = a
        .pixels
        .iter()
        .zip(&b.pixels)
        .filter(|(x, y)| x != y)
        .count();
    n as f64 / (a.width * a.height) as f64
}
