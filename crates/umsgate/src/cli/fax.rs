//! `umsgate fax to-pdf|pages`: the fax document tools.
//!
//! Contract: a file that cannot be read is [`Exit::Runtime`]; one that is read but is not a
//! document these tools understand (or exceeds the default [`umsgate_fax::Limits`]) is
//! [`Exit::Config`], with the reason. `to-pdf` writes its output only when the whole
//! conversion succeeded.
//!
//! Implementation summary: the `umsgate-fax` crate does the work, with the limits the
//! running instance uses on mail.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::Exit;

#[derive(Subcommand)]
pub(crate) enum FaxCommand {
    /// Convert TIFF G3/G4 faxes to one PDF, CCITT data embedded unchanged
    ToPdf {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print the number of pages of a PDF or TIFF
    Pages { file: PathBuf },
}

pub(crate) fn fax(cmd: &FaxCommand) -> Exit {
    match cmd {
        FaxCommand::ToPdf { inputs, output } => to_pdf(inputs, output),
        FaxCommand::Pages { file } => pages(file),
    }
}

fn to_pdf(inputs: &[PathBuf], output: &Path) -> Exit {
    let mut data = Vec::with_capacity(inputs.len());
    for p in inputs {
        match std::fs::read(p) {
            Ok(b) => data.push(b),
            Err(e) => {
                eprintln!("cannot read {}: {e}", p.display());
                return Exit::Runtime;
            }
        }
    }
    let slices: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    let pdf = match umsgate_fax::tiff_to_pdf(&slices, &umsgate_fax::Limits::default()) {
        Ok(pdf) => pdf,
        Err(e) => {
            eprintln!("cannot convert: {e}");
            return Exit::Config;
        }
    };
    if let Err(e) = std::fs::write(output, pdf) {
        eprintln!("cannot write {}: {e}", output.display());
        return Exit::Runtime;
    }
    Exit::Success
}

fn pages(file: &Path) -> Exit {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {}: {e}", file.display());
            return Exit::Runtime;
        }
    };
    match umsgate_fax::page_count_with(&bytes, &umsgate_fax::Limits::default()) {
        Ok(n) => {
            println!("{n}");
            Exit::Success
        }
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            Exit::Config
        }
    }
}
