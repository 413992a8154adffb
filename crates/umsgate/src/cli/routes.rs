//! `umsgate routes [--json]`: the domains and addresses the mail server must route to umsgate,
//! per enabled instance, and the Postfix `transport_maps` lines that do it.
//!
//! Contract: prints [`umsgate::routes::routes`] of the loaded configuration; answers
//! [`Exit::Config`] when two enabled instances claim the same domain (the summary still
//! prints, with the conflict named), [`Exit::Success`] otherwise.

use std::io::Write;

use umsgate::config::Config;
use umsgate::routes;

use super::Exit;

pub(crate) fn routes(config: &Config, json: bool) -> Exit {
    let list = routes::routes(config);
    let text = if json {
        match serde_json::to_string_pretty(&list) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("cannot write the routes as JSON: {e}");
                return Exit::Runtime;
            }
        }
    } else {
        routes::render_text(&list)
    };
    // A closed pipe (`umsgate routes | head`) is the reader's choice, not a failure.
    let _ = std::io::stdout().write_all(text.as_bytes());
    if list.iter().any(|r| !r.conflicts.is_empty()) {
        Exit::Config
    } else {
        Exit::Success
    }
}
