//! Converts one document N times through the resident LibreOffice converter and prints the
//! seconds the start took and the seconds the N conversions took (wall clock), for
//! `bench/render/office.sh`. With INSTANCES > 1, that many soffice convert side by side (N
//! split between as many tasks).
//!
//! Usage: office_bench FILE N WORK_DIR [INSTANCES]
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;
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
        eprintln!("usage: office_bench FILE N WORK_DIR [INSTANCES]");
        return ExitCode::from(2);
    };
    let instances = args
        .get(4)
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
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
    let mut config = OfficeConfig::new("soffice", work);
    config.instances = instances as usize;
    let conv = Arc::new(OfficeConverter::new(config));
    let data = Arc::new(data);
    // one conversion per instance starts them all
    let t0 = Instant::now();
    if let Err(e) = run(&conv, &data, format, instances, instances).await {
        eprintln!("first conversions: {e}");
        return ExitCode::FAILURE;
    }
    let start = t0.elapsed();
    let t1 = Instant::now();
    if let Err(e) = run(&conv, &data, format, n, instances).await {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let warm = t1.elapsed();
    if conv.starts() != u64::from(instances) {
        eprintln!("the converter restarted ({} starts)", conv.starts());
        return ExitCode::FAILURE;
    }
    println!("{:.3} {:.3}", start.as_secs_f64(), warm.as_secs_f64());
    ExitCode::SUCCESS
}

/// `n` conversions of `data`, split between `tasks` tasks.
async fn run(
    conv: &Arc<OfficeConverter>,
    data: &Arc<Vec<u8>>,
    format: OfficeFormat,
    n: u32,
    tasks: u32,
) -> Result<(), String> {
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (conv, data) = (conv.clone(), data.clone());
        let share = n / tasks + u32::from(t < n % tasks);
        handles.push(tokio::spawn(async move {
            for i in 0..share {
                conv.to_pdf(&data, format)
                    .await
                    .map_err(|e| format!("task {t}, conversion {i}: {e}"))?;
            }
            Ok::<(), String>(())
        }));
    }
    for h in handles {
        h.await.map_err(|e| format!("task: {e}"))??;
    }
    Ok(())
}
