//! `umsgate man [--out FILE]` (hidden): the manual page `umsgate(1)`, generated from the
//! command line definition, so that it never disagrees with `--help`.
//!
//! Contract: writes roff to `FILE` (folders created) or to stdout; answers
//! [`Exit::Runtime`] when it cannot write. The Debian package build (`scripts/package/deb.sh`)
//! runs it and gzips the page into `target/man/umsgate.1.gz`.

use std::io::Write;
use std::path::Path;

use super::Exit;

pub(crate) fn man(command: clap::Command, out: Option<&Path>) -> Exit {
    let mut page = Vec::new();
    if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
        eprintln!("cannot render the manual page: {e}");
        return Exit::Runtime;
    }
    let written = match out {
        Some(path) => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, &page)),
        None => std::io::stdout().write_all(&page),
    };
    match written {
        Ok(()) => Exit::Success,
        Err(e) => {
            eprintln!("cannot write the manual page: {e}");
            Exit::Runtime
        }
    }
}
