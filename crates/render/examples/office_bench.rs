//! Converts one document N times through the resident LibreOffice converter and prints the
//! seconds the start took and the seconds the N conversions took (wall clock), for
//! `bench/render/office.sh`.
//!
//! Usage: office_bench FILE N WORK_DIR
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Instant;

use umsgate_render::office::{OfficeConfig, OfficeConverter, OfficeFormat};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(n), Some(work)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<u32>().ok()),
        args.get(3),
    ) else {
        eprintln!("usage: office_bench FILE N WORK_DIR");
        return ExitCode::from(2);
    };
    let data = match std::fs::read(file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(format) = OfficeFormat::detect(&data, "application/octet-stream", Some(file)) else {
        eprintln!("{file}: not an Office document");
        return ExitCode::FAILURE;
    };
    let conv = OfficeConverter::new(OfficeConfig::new("soffice", work));
    let t0 = Instant::now();
    if let Err(e) = conv.to_pdf(&data, format).await {
        eprintln!("first conversion: {e}");
        return ExitCode::FAILURE;
    }
    let start = t0.elapsed();
    let t1 = Instant::now();
    for i in 0..n {
        if let Err(e) = conv.to_pdf(&data, format).await {
            eprintln!("conversion {i}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let warm = t1.elapsed();
    if conv.starts() != 1 {
        eprintln!("the converter restarted ({} starts)", conv.starts());
        return ExitCode::FAILURE;
    }
    println!("{:.3} {:.3}", start.as_secs_f64(), warm.as_secs_f64());
    ExitCode::SUCCESS
}
