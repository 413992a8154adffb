//! `/logs`: the category logs of each instance (`smtp.log`, `ldap.log`, `msgid.log`,
//! `print.log`): view the end with a filter, follow it, download it, clear it.
//!
//! Contract: a view reads at most [`TAIL_BYTES`] from the end of the file and shows at most
//! `lines` (default 200, at most [`MAX_LINES`]) matching lines; a download sends at most
//! [`DOWNLOAD_MAX`] bytes (the end of the file). Clearing empties the current file (not the
//! rotated ones) and writes, as its first line, who cleared it. Only these four files of
//! configured instances can be named: no path comes from the request.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::web::{Admin, Ctx, Web, redirect, urlencode};

/// The log files, by the name the page uses.
pub const FILES: [&str; 4] = ["smtp", "ldap", "msgid", "print"];
/// Most bytes read from the end of a file for a view.
pub const TAIL_BYTES: u64 = 512 * 1024;
pub const MAX_LINES: usize = 2000;
/// Most bytes of a download.
pub const DOWNLOAD_MAX: u64 = 64 << 20;

/// The last lines of `path` within its last `max` bytes (the first, cut line is dropped).
pub fn tail(path: &Path, max: u64) -> std::io::Result<Vec<String>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    let start = len.saturating_sub(max);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    Ok(lines)
}

struct Selected {
    instance: String,
    file: &'static str,
    path: PathBuf,
    filter: String,
    lines: usize,
}

fn select(web: &Web, q: &HashMap<String, String>) -> Option<Selected> {
    let config = web.current();
    let inst = match q.get("instance") {
        Some(i) => config
            .instances
            .iter()
            .find(|c| c.id.get_ref().as_str() == i)?,
        None => config.instances.first()?,
    };
    let file = match q.get("file") {
        Some(f) => FILES.into_iter().find(|n| n == f)?,
        None => FILES[0],
    };
    let path = web
        .config
        .instance_log_dir(inst.id.get_ref())
        .join(format!("{file}.log"));
    Some(Selected {
        instance: inst.id.get_ref().as_str().to_owned(),
        file,
        path,
        filter: q
            .get("filter")
            .map_or("", |s| s.as_str())
            .chars()
            .take(200)
            .collect(),
        lines: q
            .get("lines")
            .and_then(|l| l.parse().ok())
            .unwrap_or(200)
            .clamp(1, MAX_LINES),
    })
}

async fn matching(sel: &Selected) -> Vec<String> {
    let path = sel.path.clone();
    let lines = tokio::task::spawn_blocking(move || tail(&path, TAIL_BYTES))
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .unwrap_or_else(|e| vec![format!("({}: {e})", sel.path.display())]);
    let needle = sel.filter.to_lowercase();
    let mut out: Vec<String> = lines
        .into_iter()
        .filter(|l| needle.is_empty() || l.to_lowercase().contains(&needle))
        .collect();
    let skip = out.len().saturating_sub(sel.lines);
    out.drain(..skip);
    out
}

pub async fn view(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(sel) = select(&web, &q) else {
        return web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found");
    };
    let lines = matching(&sel).await;
    let instances: Vec<String> = web
        .config
        .instances
        .iter()
        .map(|i| i.id.get_ref().to_string())
        .collect();
    let notice = q.get("done").filter(|d| d.as_str() == "cleared").map(|_| {
        format!(
            "{}.log: {}",
            sel.file,
            crate::web::i18n::text(ctx.lang, "action.clear")
        )
    });
    web.page(
        &ctx,
        StatusCode::OK,
        "logs.html",
        minijinja::context! {
            nav => "logs",
            instances,
            instance => sel.instance,
            files => FILES,
            file => sel.file,
            filter => sel.filter,
            lines,
            notice,
        },
    )
}

/// The matching lines as plain text (what the page's follow mode polls).
pub async fn tail_page(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(sel) = select(&web, &q) else {
        return web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found");
    };
    let mut text = matching(&sel).await.join("\n");
    text.push('\n');
    ([(CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

pub async fn download(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(sel) = select(&web, &q) else {
        return web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found");
    };
    let path = sel.path.clone();
    let bytes = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut f = std::fs::File::open(&path)?;
        let len = f.metadata()?.len();
        f.seek(SeekFrom::Start(len.saturating_sub(DOWNLOAD_MAX)))?;
        let mut buf = Vec::new();
        f.take(DOWNLOAD_MAX).read_to_end(&mut buf)?;
        Ok(buf)
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r);
    match bytes {
        Ok(b) => (
            [
                (CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}-{}.log\"", sel.instance, sel.file),
                ),
            ],
            b,
        )
            .into_response(),
        Err(_) => web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found"),
    }
}

#[derive(serde::Deserialize)]
pub struct ClearForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    instance: String,
    #[serde(default)]
    file: String,
}

pub async fn clear(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Form(f): Form<ClearForm>,
) -> Response {
    if let Err(e) = ctx.check_csrf(f.csrf.as_deref()) {
        return super::csrf_refused(&web, &ctx, e);
    }
    let q: HashMap<String, String> = [
        ("instance".to_owned(), f.instance.clone()),
        ("file".to_owned(), f.file.clone()),
    ]
    .into();
    let Some(sel) = select(&web, &q) else {
        return web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found");
    };
    let who = who(&ctx);
    let path = sel.path.clone();
    let line = format!(
        "{} log cleared from the web console by {who} ({})\n",
        crate::clock::rfc3339(crate::clock::now()),
        ctx.client
    );
    // The writer appends (O_APPEND), so it goes on at the new end after the truncation.
    let done = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new().write(true).open(&path)?;
        f.set_len(0)?;
        let mut a = std::fs::OpenOptions::new().append(true).open(&path)?;
        std::io::Write::write_all(&mut a, line.as_bytes())
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r);
    match done {
        Ok(()) => {
            tracing::info!(event = "web.log_cleared", instance = %sel.instance, file = sel.file, by = %who, client = %ctx.client);
            redirect(&format!(
                "/logs?instance={}&file={}&done=cleared",
                urlencode(&sel.instance),
                sel.file
            ))
        }
        Err(e) => {
            tracing::warn!(event = "web.log_clear_failed", file = %sel.path.display(), error = %e);
            web.error(&ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
        }
    }
}

fn who(ctx: &Ctx) -> String {
    ctx.principal().map_or_else(String::new, |p| p.name.clone())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tail_drops_the_cut_line_and_reads_no_more_than_asked() {
        let dir = crate::web::testing::temp_dir("tail");
        let p = dir.join("smtp.log");
        let text: String = (0..1000).map(|i| format!("line {i:04}\n")).collect();
        std::fs::write(&p, &text).unwrap();
        let all = tail(&p, 1 << 20).unwrap();
        assert_eq!(all.len(), 1000);
        let end = tail(&p, 25).unwrap();
        // 25 bytes = the last two lines (10 bytes each) and half of one before them.
        assert_eq!(end, vec!["line 0998", "line 0999"]);
        assert!(tail(&dir.join("none.log"), 10).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
