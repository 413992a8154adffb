#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use umsgate_domain::{Priority, Service};

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/fixtures/mime")
    .join(name);
    std::fs::read(path).unwrap()
}

fn sample(name: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../testdata/samples")
    .join(name);
    std::fs::read(path).unwrap()
}

#[test]
fn iso_8859_1_body_is_decoded_and_docx_is_an_office_document() {
    let limits = Limits::default();
    let c = parse(&sample("fax_docx_attachment.eml"), &limits).unwrap();
    assert_eq!(
        c.text,
        "Bitte den Vertragsentwurf an Frau Schneider faxen. Danke! Grüße, Max"
    );
    assert_eq!(c.from.as_deref(), Some("max.mustermann@example.com"));
    assert_eq!(c.attachments.len(), 1);
    assert_eq!(
        c.attachments[0].name.as_deref(),
        Some("Angebot Müller.docx")
    );
    assert_eq!(c.attachments[0].kind, AttachmentKind::Office);
    let Payload::Fax(fax) = build(&c, Service::Fax, &limits).unwrap() else {
        panic!("not a fax");
    };
    assert!(matches!(
        fax.parts[1].content,
        umsgate_render::Content::Office {
            format: umsgate_render::office::OfficeFormat::Docx,
            ..
        }
    ));
}

#[test]
fn html_body_and_pdf_make_a_fax() {
    let limits = Limits::default();
    let c = parse(&sample("fax_html_pdf.eml"), &limits).unwrap();
    assert_eq!(c.subject.as_deref(), Some("Angebot 2024-0815 für Sie"));
    assert_eq!(
        c.disposition_notification_to.as_deref(),
        Some("jane@example.com")
    );
    assert!(
        c.text.starts_with("Sehr geehrter Herr Schmidt,"),
        "{}",
        c.text
    );
    assert!(c.text.contains("1.200,00 €"), "{}", c.text);
    assert!(!c.text.contains('<'), "{}", c.text);
    let Payload::Fax(fax) = build(&c, Service::Fax, &limits).unwrap() else {
        panic!("not a fax");
    };
    let kinds: Vec<_> = fax
        .parts
        .iter()
        .map(|p| {
            (
                p.content_type.as_str(),
                matches!(p.content, umsgate_render::Content::Pdf(_)),
            )
        })
        .collect();
    // An HTML-only body stays HTML (its text extracted for when it cannot be rendered).
    assert_eq!(kinds, [("text/html", false), ("application/pdf", true)]);
    let umsgate_render::Content::Html { text, .. } = &fax.parts[0].content else {
        panic!("not html");
    };
    assert_eq!(text, &c.text);
}

#[test]
fn inline_image_of_the_html_alternative_is_not_an_attachment() {
    let limits = Limits::default();
    let c = parse(&sample("alternative_inline_image.eml"), &limits).unwrap();
    assert!(c.attachments.is_empty(), "{:?}", c.attachments);
    assert!(c.text.starts_with("Example Corp Newsletter\n(plain-text"));
    let Payload::Fax(fax) = build(&c, Service::Fax, &limits).unwrap() else {
        panic!("not a fax");
    };
    // The plain-text alternative is the body: one text part, the image not an attachment.
    assert_eq!(fax.parts.len(), 1);
    assert!(matches!(
        fax.parts[0].content,
        umsgate_render::Content::Text(_)
    ));
}

#[test]
fn sms_keeps_umlauts_in_gsm7_and_leaves_out_the_subject() {
    let limits = Limits::default();
    let c = parse(&sample("sms_plain.eml"), &limits).unwrap();
    assert_eq!(c.subject.as_deref(), Some("Rückruf bitte"));
    let Payload::Sms(sms) = build(&c, Service::Sms, &limits).unwrap() else {
        panic!("not an sms");
    };
    assert!(sms.text.starts_with("Hallo Herr Müller"));
    assert!(!sms.text.contains("Rückruf bitte"));
    assert_eq!(sms.encoding, SmsEncoding::Gsm7);
}

#[test]
fn priority_headers_in_order() {
    let limits = Limits::default();
    let mk = |h: &str| {
        let eml = format!("From: a@b.c\r\n{h}\r\n\r\nx\r\n");
        parse(eml.as_bytes(), &limits).unwrap().priority
    };
    assert_eq!(mk("X-Priority: 2\r\nImportance: low"), Some(Priority::High));
    assert_eq!(mk("X-Priority: 5 (Lowest)"), Some(Priority::Low));
    assert_eq!(
        mk("Importance: Normal\r\nPriority: urgent"),
        Some(Priority::Normal)
    );
    assert_eq!(mk("Priority: non-urgent"), Some(Priority::Low));
    assert_eq!(
        mk("X-Priority: soon\r\nPriority: urgent"),
        Some(Priority::High)
    );
    assert_eq!(mk("X-Mailer: x"), None);
}

#[test]
fn voice_prefers_wav_and_refuses_a_second_one() {
    let wav = sample("voice_message_8k.wav");
    let content = |attachments: Vec<Attachment>, text: &str| MessageContent {
        message_id: None,
        subject: None,
        from: None,
        priority: None,
        text: text.to_owned(),
        html: None,
        forward_headers: Vec::new(),
        display_names: Default::default(),
        attachments,
        disposition_notification_to: None,
    };
    let att = |name: &str, data: Vec<u8>| Attachment {
        name: Some(name.to_owned()),
        content_type: "audio/wav".to_owned(),
        kind: AttachmentKind::Wav,
        data,
    };
    let limits = Limits::default();
    let one = content(vec![att("a.wav", wav.clone())], "hello");
    let Payload::Voice(v) = build(&one, Service::Voice, &limits).unwrap() else {
        panic!("not voice");
    };
    assert_eq!(v.wav.unwrap().name, "voice.wav");
    assert_eq!(v.text, None);
    let two = content(vec![att("a.wav", wav.clone()), att("b.wav", wav)], "");
    assert!(matches!(
        build(&two, Service::Voice, &limits),
        Err(Refusal::UnsupportedAttachment { name: Some(n), .. }) if n == "b.wav"
    ));
    let broken = content(vec![att("c.wav", b"RIFX".to_vec())], "");
    assert!(matches!(
        build(&broken, Service::Voice, &limits),
        Err(Refusal::Malformed { .. })
    ));
    let none = content(vec![], "  ");
    assert_eq!(
        build(&none, Service::Voice, &limits),
        Err(Refusal::NoVoiceContent)
    );
}

#[test]
fn broken_tiff_is_malformed_not_a_panic() {
    let mut tif = sample("fax_3p_g4.tif");
    tif.truncate(200);
    let c = MessageContent {
        message_id: None,
        subject: None,
        from: None,
        priority: None,
        text: String::new(),
        html: None,
        forward_headers: Vec::new(),
        display_names: Default::default(),
        attachments: vec![Attachment {
            name: Some("x.tif".to_owned()),
            content_type: "image/tiff".to_owned(),
            kind: AttachmentKind::Tiff,
            data: tif,
        }],
        disposition_notification_to: None,
    };
    // The TIFF is recognised by its bytes; the renderer finds it broken and names it.
    let Payload::Fax(fax) = build(&c, Service::Fax, &Limits::default()).unwrap() else {
        panic!("not a fax");
    };
    let renderer = umsgate_render::Renderer::new(Default::default(), std::env::temp_dir());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(renderer.render(&fax.parts)).unwrap_err();
    assert_eq!(err.name.as_deref(), Some("x.tif"));
    assert!(
        matches!(err.kind, umsgate_render::RenderErrorKind::Malformed(_)),
        "{err}"
    );
}

/// The SMS segments the slow, obvious way: fill parts character by character.
fn reference_segments(text: &str) -> (SmsEncoding, u32) {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXT: &str = "\u{c}^{}\\[~]|€";
    let gsm = text.chars().all(|c| BASIC.contains(c) || EXT.contains(c));
    let size = |c: char| -> usize {
        if gsm {
            if EXT.contains(c) { 2 } else { 1 }
        } else {
            c.len_utf16()
        }
    };
    let (single, part) = if gsm { (160, 153) } else { (70, 67) };
    let total: usize = text.chars().map(size).sum();
    let encoding = if gsm {
        SmsEncoding::Gsm7
    } else {
        SmsEncoding::Ucs2
    };
    if total <= single {
        return (encoding, 1);
    }
    let mut parts: Vec<String> = vec![String::new()];
    for c in text.chars() {
        let used: usize = parts.last().unwrap().chars().map(size).sum();
        if used + size(c) > part {
            parts.push(String::new());
        }
        parts.last_mut().unwrap().push(c);
    }
    (encoding, parts.len() as u32)
}

fn sms_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => proptest::char::range('a', 'z'),
        2 => Just(' '),
        1 => Just('€'),
        1 => Just('['),
        1 => Just('ä'),
        1 => Just('ł'),
        1 => Just('👍'),
    ]
}

fn mutate(mut data: Vec<u8>, ops: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(op, pos, byte) in ops {
        if data.is_empty() {
            data.push(byte);
            continue;
        }
        let p = pos % data.len();
        match op % 5 {
            0 => data[p] = byte,
            1 => data.insert(p, byte),
            2 => {
                data.remove(p);
            }
            3 => {
                let end = (p + usize::from(byte)).min(data.len());
                let chunk = data[p..end].to_vec();
                data.splice(p..p, chunk);
            }
            _ => data.truncate(p),
        }
    }
    data
}

fn run_all(raw: &[u8]) {
    let limits = Limits::default();
    if let Ok(content) = parse(raw, &limits) {
        for service in Service::ALL {
            let _ = build(&content, service, &limits);
        }
    }
}

const SMALL_FIXTURES: &[&str] = &[
    "001.eml", "002.eml", "003.eml", "004.eml", "005.eml", "006.eml", "007.eml", "008.eml",
    "009.eml", "020.eml", "026.eml", "027.eml", "028.eml", "030.eml",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sms_segments_match_the_reference(chars in proptest::collection::vec(sms_char(), 0..700)) {
        let text: String = chars.into_iter().collect();
        prop_assert_eq!(sms::measure(&text), reference_segments(&text));
    }

    #[test]
    fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run_all(&raw);
    }

    #[test]
    fn mimeish_bytes_never_panic(
        pieces in proptest::collection::vec(prop_oneof![
            Just("--b\r\n"), Just("--b--\r\n"), Just("\r\n"), Just("Content-Type: multipart/mixed; boundary=b\r\n"),
            Just("Content-Type: message/rfc822\r\n"), Just("Content-Transfer-Encoding: base64\r\n"),
            Just("Content-Type: text/html\r\n"), Just("<p>x&amp;</p>"), Just("JVBERi0xLjQK\r\n"),
            Just("Content-Disposition: attachment; filename=\"a.pdf\"\r\n"), Just("From: a@b\r\n"),
        ], 0..60)
    ) {
        run_all(pieces.concat().as_bytes());
    }

    #[test]
    fn mutated_fixtures_never_panic(
        index in 0..SMALL_FIXTURES.len(),
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8),
    ) {
        run_all(&mutate(fixture(SMALL_FIXTURES[index]), &ops));
    }
}
