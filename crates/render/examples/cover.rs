//! Draws a cover page with example fields, to look at a template while editing it.
//!
//! `cargo run -p umsgate-render --example cover -- [COVERS_DIR|-] [NAME] OUT.pdf [BODY.txt]`
use std::path::Path;
use std::process::ExitCode;

use umsgate_render::cover::{CoverFields, Covers};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(name), Some(out)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: cover COVERS_DIR|- NAME OUT.pdf [BODY.txt]");
        return ExitCode::from(2);
    };
    let dir = (dir != "-").then(|| Path::new(dir.as_str()));
    let covers = match Covers::load(dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for problem in covers.problems() {
        eprintln!("problem: {problem}");
    }
    let body = args
        .get(3)
        .map(|p| std::fs::read_to_string(p).unwrap_or_default());
    let fields = CoverFields {
        recipient_number: "+49 89 1234 5678".into(),
        recipient_name: Some("Dr. Maria Schneider".into()),
        sender_name: Some("Jonas Weber".into()),
        sender_address: "jonas.weber@example.com".into(),
        sender_fields: [
            ("company", "Example Logistics GmbH"),
            ("street", "Hafenstraße 12"),
            ("zip", "20457"),
            ("city", "Hamburg"),
            ("department", "Customer Service"),
            ("office", "Building C, 2nd floor"),
            ("phone", "+49 40 555 0100"),
            ("fax", "+49 40 555 0199"),
            ("custom1", "VAT DE123456789"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        subject: Some("Delivery schedule for order 4711".into()),
        date: "4 December 2026".into(),
        pages: 3,
        body,
    };
    match covers.render(Some(name), &fields) {
        Ok(cover) => {
            if cover.fell_back {
                eprintln!("no cover {name}: drew {}", cover.used);
            }
            if let Err(e) = std::fs::write(out, cover.pdf) {
                eprintln!("cannot write {out}: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
