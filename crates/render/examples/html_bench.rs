//! Renders one HTML file N times through headless Chromium (a cold start per document, as
//! umsgate does) and prints the seconds per document (wall clock).
//!
//! Usage: html_bench FILE N WORK_DIR
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Instant;

use umsgate_render::browser::{BrowserConfig, HtmlConverter};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(n), Some(work)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<u32>().ok()),
        args.get(3),
    ) else {
        eprintln!("usage: html_bench FILE N WORK_DIR");
        return ExitCode::from(2);
    };
    let html = match std::fs::read_to_string(file) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let conv = HtmlConverter::new(BrowserConfig::new("chromium", work));
    let t0 = Instant::now();
    for i in 0..n.max(1) {
        if let Err(e) = conv.to_pdf(&html).await {
            eprintln!("conversion {i}: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!("{:.3}", t0.elapsed().as_secs_f64() / f64::from(n.max(1)));
    ExitCode::SUCCESS
}
