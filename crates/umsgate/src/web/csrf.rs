//! Cross-site request forgery: what an unsafe request (POST) must show.
//!
//! Contract: [`check`] accepts a request only when (1) a `Sec-Fetch-Site` header, if sent,
//! says `same-origin` (or `none`, a typed address); (2) an `Origin` header, if sent, names
//! this server's own host (`Host`; a reverse proxy must pass the client's `Host` on); and (3) for
//! a request within a session, the form field `csrf` or the header `X-CSRF-Token` equals the
//! session's token (compared in constant time). The session cookie is `SameSite=Strict` on
//! top of that. The login form itself has no session yet and relies on (1) and (2).

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfRefusal {
    CrossSite,
    ForeignOrigin,
    BadToken,
}

impl std::fmt::Display for CsrfRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CsrfRefusal::CrossSite => "the request came from another site (Sec-Fetch-Site)",
            CsrfRefusal::ForeignOrigin => "the request's Origin is not this server",
            CsrfRefusal::BadToken => "the form's security token is missing or stale",
        })
    }
}

impl std::error::Error for CsrfRefusal {}

/// Checks the headers of an unsafe request (see the module documentation).
pub fn check_origin(headers: &HeaderMap) -> Result<(), CsrfRefusal> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        if site != "same-origin" && site != "none" {
            return Err(CsrfRefusal::CrossSite);
        }
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .unwrap_or("");
        if host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
            return Err(CsrfRefusal::ForeignOrigin);
        }
    }
    Ok(())
}

/// Compares the token a request sent with the session's.
pub fn check_token(sent: Option<&str>, expected: &str) -> Result<(), CsrfRefusal> {
    match sent {
        Some(s) if !expected.is_empty() && same(s.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(CsrfRefusal::BadToken),
    }
}

/// Equal bytes, compared without an early exit (the length is not secret).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn origin_and_fetch_site() {
        assert!(check_origin(&headers(&[("host", "a:8080")])).is_ok());
        assert!(
            check_origin(&headers(&[
                ("host", "a:8080"),
                ("origin", "http://a:8080"),
                ("sec-fetch-site", "same-origin")
            ]))
            .is_ok()
        );
        assert_eq!(
            check_origin(&headers(&[("host", "a:8080"), ("origin", "http://evil")])),
            Err(CsrfRefusal::ForeignOrigin)
        );
        assert_eq!(
            check_origin(&headers(&[("host", "a"), ("sec-fetch-site", "cross-site")])),
            Err(CsrfRefusal::CrossSite)
        );
        assert_eq!(
            check_origin(&headers(&[("origin", "null"), ("host", "a")])),
            Err(CsrfRefusal::ForeignOrigin)
        );
    }

    #[test]
    fn tokens() {
        assert!(check_token(Some("abc"), "abc").is_ok());
        assert_eq!(check_token(Some("abd"), "abc"), Err(CsrfRefusal::BadToken));
        assert_eq!(check_token(None, "abc"), Err(CsrfRefusal::BadToken));
        assert_eq!(check_token(Some(""), ""), Err(CsrfRefusal::BadToken));
    }
}
