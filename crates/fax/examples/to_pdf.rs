//! Converts fax TIFFs to one PDF: `to_pdf IN.tif… -o OUT.pdf` (the same job as
//! `umsgate fax to-pdf`, for benchmarks and manual checks). With `--pages FILE` it prints the
//! page count of a PDF or TIFF instead; with `--png OUT.png IN.tif` it writes a preview; with
//! `--repeat N IN.tif` it converts N times in one process and prints the library's own rate
//! (no process start, no file I/O).

use std::process::ExitCode;

fn run(args: &[String]) -> Result<(), String> {
    let limits = umsgate_fax::Limits::default();
    match args {
        [flag, file] if flag == "--pages" => {
            let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            let n = umsgate_fax::page_count_with(&bytes, &limits)
                .map_err(|e| format!("{file}: {e}"))?;
            println!("{n}");
            Ok(())
        }
        [flag, n, file] if flag == "--repeat" => {
            let n: u32 = n.parse().map_err(|_| format!("bad count {n}"))?;
            let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            let pages = umsgate_fax::page_count_with(&bytes, &limits).map_err(|e| e.to_string())?;
            let start = std::time::Instant::now();
            let mut out = 0usize;
            for _ in 0..n {
                out += umsgate_fax::tiff_to_pdf(&[&bytes], &limits)
                    .map_err(|e| e.to_string())?
                    .len();
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{file}: {n} conversions of {pages} pages in {secs:.3} s: {:.0} pages/s, {} bytes each",
                f64::from(n * pages) / secs,
                out / n.max(1) as usize
            );
            Ok(())
        }
        [flag, out, file] if flag == "--png" => {
            let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            let png =
                umsgate_fax::first_page_png(&bytes, &limits).map_err(|e| format!("{file}: {e}"))?;
            std::fs::write(out, png).map_err(|e| format!("{out}: {e}"))
        }
        _ => {
            let (inputs, out) =
                match args.iter().position(|a| a == "-o") {
                    Some(i) if i + 2 == args.len() && i > 0 => (&args[..i], &args[i + 1]),
                    _ => return Err(
                        "usage: to_pdf IN.tif... -o OUT.pdf | --pages FILE | --png OUT.png IN.tif"
                            .into(),
                    ),
                };
            let files = inputs
                .iter()
                .map(|f| std::fs::read(f).map_err(|e| format!("{f}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            let slices: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
            let pdf = umsgate_fax::tiff_to_pdf(&slices, &limits).map_err(|e| e.to_string())?;
            std::fs::write(out, pdf).map_err(|e| format!("{out}: {e}"))
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("to_pdf: {e}");
            ExitCode::FAILURE
        }
    }
}
