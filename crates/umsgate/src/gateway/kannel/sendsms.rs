//! One call of Kannel's `sendsms`: the request and what its answer means.
//!
//! Contract: [`request`] builds the GET URL (every value form-encoded, so E.164's `+` travels
//! as `%2B` and is not read as a space) or the POST (text as the UTF-8 body, the rest as
//! `X-Kannel-*` headers). [`outcome`] maps Kannel's answer: 2xx (`0: Accepted for delivery`,
//! `3: Queued for later delivery`) is taken; 5xx is temporary; 403 (wrong account or an address
//! not in `user-allow-ip`) is temporary too, since it is the site's set-up and not the
//! message that is wrong, and is logged as an error; any other 4xx is permanent with Kannel's
//! reason. Transport failures (no connection, time-out) are temporary. The password never
//! appears in an error or a log: reqwest's errors are stripped of their URL.

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::sms::Coding;
use crate::config::KannelConfig;
use crate::config::kannel::SendMethod;
use crate::gateway::GatewayError;

/// One SMS as sendsms gets it.
#[derive(Debug, Clone)]
pub struct SendSms<'a> {
    /// `+4930123456`.
    pub to: &'a str,
    pub from: Option<&'a str>,
    pub text: &'a str,
    pub coding: Coding,
    pub dlr_url: &'a str,
}

/// Longest part of Kannel's answer quoted in a reason.
const MAX_REASON: usize = 200;

fn permanent(detail: String) -> GatewayError {
    GatewayError {
        temporary: false,
        detail,
    }
}

/// The request: method, URL, headers, body.
pub fn request(
    cfg: &KannelConfig,
    sms: &SendSms<'_>,
) -> Result<(Method, Url, HeaderMap, Vec<u8>), GatewayError> {
    let mut url = Url::parse(&cfg.sendsms_url)
        .map_err(|e| permanent(format!("sendsms_url `{}`: {e}", cfg.sendsms_url)))?;
    let password = cfg.secret.as_ref().map_or("", |s| s.expose());
    let coding = sms.coding.kannel_value().to_string();
    let mask = cfg.dlr_mask.to_string();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("username", &cfg.user),
        ("password", password),
        ("to", sms.to),
    ];
    if let Some(from) = sms.from {
        pairs.push(("from", from));
    }
    pairs.extend([
        ("coding", coding.as_str()),
        ("charset", "UTF-8"),
        ("dlr-mask", mask.as_str()),
        ("dlr-url", sms.dlr_url),
    ]);
    if let Some(smsc) = &cfg.smsc {
        pairs.push(("smsc", smsc));
    }
    match cfg.method {
        SendMethod::Get => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in &pairs {
                    q.append_pair(k, v);
                }
                q.append_pair("text", sms.text);
            }
            Ok((Method::GET, url, HeaderMap::new(), Vec::new()))
        }
        SendMethod::Post => {
            let mut headers = HeaderMap::new();
            for (k, v) in &pairs {
                let name = HeaderName::from_bytes(format!("X-Kannel-{k}").as_bytes())
                    .map_err(|e| permanent(format!("header for {k}: {e}")))?;
                let value = HeaderValue::from_str(v).map_err(|_| {
                    permanent(format!("the value of {k} cannot go into an HTTP header"))
                })?;
                headers.insert(name, value);
            }
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Ok((Method::POST, url, headers, sms.text.as_bytes().to_vec()))
        }
    }
}

/// What Kannel's answer means for the job.
pub fn outcome(status: u16, body: &str) -> Result<(), GatewayError> {
    let reason: String = body.trim().chars().take(MAX_REASON).collect();
    match status {
        200..=299 => Ok(()),
        403 => Err(GatewayError {
            temporary: true,
            detail: format!(
                "Kannel refused umsgate's account (HTTP 403 {reason}); check gateway.kannel.user, the password and Kannel's user-allow-ip"
            ),
        }),
        400..=499 => Err(permanent(format!(
            "Kannel refused the SMS: HTTP {status} {reason}"
        ))),
        _ => Err(GatewayError {
            temporary: true,
            detail: format!("Kannel cannot take the SMS now: HTTP {status} {reason}"),
        }),
    }
}

/// A transport failure, without the URL (which holds the password).
pub fn transport(e: reqwest::Error) -> GatewayError {
    let e = e.without_url();
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    GatewayError {
        temporary: true,
        detail: format!("Kannel sendsms {what}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::Secret;

    fn cfg(method: SendMethod) -> KannelConfig {
        KannelConfig {
            secret: Some(Secret::new("p+w&d".into())),
            method,
            smsc: Some("smsc1".into()),
            ..KannelConfig::default()
        }
    }

    const SMS: SendSms<'static> = SendSms {
        to: "+4930123456",
        from: Some("+4917012345"),
        text: "Grüße & 5 € + mehr",
        coding: Coding::Gsm7,
        dlr_url: "http://127.0.0.1:10080/dlr?key=k&job=Q-0&type=%d",
    };

    #[test]
    fn get_encodes_plus_and_every_value() {
        let (m, url, h, body) = request(&cfg(SendMethod::Get), &SMS).unwrap();
        assert_eq!(m, Method::GET);
        assert!(h.is_empty() && body.is_empty());
        let q = url.query().unwrap();
        assert!(q.contains("to=%2B4930123456"), "{q}");
        assert!(q.contains("from=%2B4917012345"), "{q}");
        assert!(q.contains("password=p%2Bw%26d"), "{q}");
        assert!(q.contains("coding=0&charset=UTF-8&dlr-mask=31"), "{q}");
        assert!(
            q.contains(
                "dlr-url=http%3A%2F%2F127.0.0.1%3A10080%2Fdlr%3Fkey%3Dk%26job%3DQ-0%26type%3D%25d"
            ),
            "{q}"
        );
        assert!(q.contains("smsc=smsc1"), "{q}");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert!(pairs.contains(&("text".into(), SMS.text.into())));
    }

    #[test]
    fn post_sends_headers_and_the_text_as_body() {
        let sms = SendSms {
            coding: Coding::Ucs2,
            ..SMS
        };
        let (m, url, h, body) = request(&cfg(SendMethod::Post), &sms).unwrap();
        assert_eq!(m, Method::POST);
        assert_eq!(url.query(), None);
        assert_eq!(h["x-kannel-to"], "+4930123456");
        assert_eq!(h["x-kannel-coding"], "2");
        assert_eq!(h["x-kannel-dlr-url"], SMS.dlr_url);
        assert_eq!(h["content-type"], "text/plain; charset=utf-8");
        assert_eq!(body, SMS.text.as_bytes());
    }

    #[test]
    fn answers_map_to_outcomes() {
        assert!(outcome(202, "0: Accepted for delivery").is_ok());
        assert!(outcome(202, "3: Queued for later delivery").is_ok());
        let e = outcome(400, "Missing receiver number, rejected").unwrap_err();
        assert!(
            !e.temporary && e.detail.contains("Missing receiver number"),
            "{e}"
        );
        assert!(outcome(403, "Authorization failed").unwrap_err().temporary);
        assert!(outcome(503, "").unwrap_err().temporary);
        let e = outcome(400, &"x".repeat(5000)).unwrap_err();
        assert!(e.detail.len() < 300);
    }
}
