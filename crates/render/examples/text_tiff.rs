//! Plain text → TIFF class F with `umsgate_render::tiff::text_to_tiff`, timed: the Rust half
//! of `bench/render/text.sh`.
//!
//! `cargo run --release -p umsgate-render --example text_tiff -- IN.txt OUT.tif [g3|g4] [ROUNDS]`
//! prints `pages=N rounds=R seconds=S pages_per_s=P`: the best of ROUNDS timed runs after
//! one warm-up (default 5), or with ROUNDS 0 the one and only run, as a process that renders
//! one document does it.
use std::process::ExitCode;
use std::time::Instant;

use umsgate_render::layout::{Geometry, paginate};
use umsgate_render::tiff::{TiffCoding, text_to_tiff};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
        eprintln!("usage: text_tiff IN.txt OUT.tif [g3|g4] [ROUNDS]");
        return ExitCode::from(2);
    };
    let coding = match args.get(2).map(String::as_str) {
        Some("g3") => TiffCoding::G3,
        _ => TiffCoding::G4,
    };
    let rounds: u32 = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(5);
    let text = match std::fs::read(input) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            eprintln!("cannot read {input}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut best = f64::MAX;
    let mut tiff = Vec::new();
    let mut pages = 0;
    for round in 0..=rounds {
        let start = Instant::now();
        let laid = paginate(&text, Geometry::default());
        pages = laid.len();
        tiff = match text_to_tiff(&laid, coding) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("text_to_tiff: {e}");
                return ExitCode::FAILURE;
            }
        };
        if round > 0 || rounds == 0 {
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    if let Err(e) = std::fs::write(output, &tiff) {
        eprintln!("cannot write {output}: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "pages={pages} rounds={rounds} seconds={best:.4} pages_per_s={:.1}",
        pages as f64 / best
    );
    ExitCode::SUCCESS
}
