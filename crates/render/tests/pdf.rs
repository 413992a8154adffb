//! The renderer's own parts (text, images, PDF and TIFF passthrough, merging) checked the way
//! a person would read the result: `pdftotext` for the text, `pdfinfo` for the pages
//! (poppler-utils; CI installs it).

use std::path::PathBuf;
use std::process::Command;

use umsgate_render::{Content, Limits, Part, RenderErrorKind, Renderer};

fn tool(program: &str, args: &[&str], pdf: &[u8]) -> String {
    let dir =
        std::env::temp_dir().join(format!("umsgate-render-{}-{}", program, std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!("{}.pdf", rand_name()));
    std::fs::write(&file, pdf).expect("write pdf");
    let out = Command::new(program)
        .args(args)
        .arg(&file)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("{program} (poppler-utils) must be installed: {e}"));
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rand_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

/// The text of a PDF with every run of blanks as one space (pdftotext spaces words by their
/// position, so blanks are not exact).
fn pdftotext(pdf: &[u8]) -> String {
    squeeze(&tool("pdftotext", &["-layout"], pdf))
}

fn squeeze(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn pdf_pages(pdf: &[u8]) -> u32 {
    let dir = std::env::temp_dir().join(format!("umsgate-render-info-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!("{}.pdf", rand_name()));
    std::fs::write(&file, pdf).expect("write pdf");
    let out = Command::new("pdfinfo")
        .arg(&file)
        .output()
        .expect("pdfinfo (poppler-utils)");
    let _ = std::fs::remove_file(&file);
    let info = String::from_utf8_lossy(&out.stdout);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo gave no page count: {info}"))
}

fn renderer() -> Renderer {
    Renderer::new(Limits::default(), std::env::temp_dir())
}

fn part(content_type: &str, content: Content) -> Part {
    Part {
        name: Some(format!("file of {content_type}")),
        content_type: content_type.to_owned(),
        content,
    }
}

fn sample(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/samples")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn text_in_any_script_is_extractable_from_the_pages() {
    let text = "Grüße aus Starnberg — 12 € pro Seite\nПривет, Ελληνικά, Türkçe ğ\n\tindented";
    let body = renderer()
        .render(&[part("text/plain", Content::Text(text.to_owned()))])
        .await
        .expect("rendered");
    assert_eq!(body.pages(), 1);
    let pdf = body.to_pdf(None).await.expect("pdf");
    let extracted = pdftotext(&pdf);
    for phrase in [
        "Grüße aus Starnberg — 12 € pro Seite",
        "Привет, Ελληνικά, Türkçe ğ",
        "\nindented",
    ] {
        assert!(
            extracted.contains(phrase),
            "{phrase:?} not in {extracted:?}"
        );
    }
    assert_eq!(pdf_pages(&pdf), 1);
}

#[tokio::test]
async fn body_image_pdf_and_tiff_become_one_document_in_order() {
    let long: String = (1..=75).map(|i| format!("body line {i}\n")).collect();
    let mut png = Vec::new();
    image_png(&mut png);
    let fax = sample("fax_3p_g4.tif");
    let pdf_in = renderer()
        .render(&[part(
            "text/plain",
            Content::Text("attached PDF page".into()),
        )])
        .await
        .expect("rendered")
        .to_pdf(None)
        .await
        .expect("pdf");
    let parts = [
        part("text/plain", Content::Text(long)),
        part("image/png", Content::Image(png)),
        part("application/pdf", Content::Pdf(pdf_in)),
        part("image/tiff", Content::Tiff(fax)),
    ];
    let body = renderer().render(&parts).await.expect("rendered");
    assert_eq!(body.pages(), 2 + 1 + 1 + 3);
    let cover = renderer()
        .render(&[part("text/plain", Content::Text("COVER".into()))])
        .await
        .expect("cover")
        .to_pdf(None)
        .await
        .expect("pdf");
    let pdf = body.to_pdf(Some(cover)).await.expect("pdf");
    assert_eq!(pdf_pages(&pdf), 8);
    let text = pdftotext(&pdf);
    let order: Vec<usize> = [
        "COVER",
        "body line 1\n",
        "body line 75",
        "attached PDF page",
    ]
    .iter()
    .map(|p| {
        text.find(p)
            .unwrap_or_else(|| panic!("{p:?} missing from {text:?}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "pages out of order: {order:?}"
    );
}

fn image_png(out: &mut Vec<u8>) {
    // A 2×2 grey PNG, written by hand so the test does not depend on an encoder.
    let mut enc = png::Encoder::new(std::io::Cursor::new(out), 2, 2);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().expect("header");
    w.write_image_data(&[0, 255, 255, 0]).expect("data");
}

#[tokio::test]
async fn a_part_over_the_page_limit_is_refused_by_name() {
    let limits = Limits {
        max_pages: 2,
        ..Limits::default()
    };
    let text: String = (0..200).map(|i| format!("{i}\n")).collect();
    let err = Renderer::new(limits, std::env::temp_dir())
        .render(&[part("text/plain", Content::Text(text))])
        .await
        .expect_err("too long");
    assert_eq!(err.kind, RenderErrorKind::TooManyPages { limit: 2 });
    assert_eq!(err.name.as_deref(), Some("file of text/plain"));
}

#[tokio::test]
async fn a_broken_pdf_is_refused_as_malformed() {
    let err = renderer()
        .render(&[part(
            "application/pdf",
            Content::Pdf(b"%PDF-1.7\ngarbage".to_vec()),
        )])
        .await
        .expect_err("broken");
    assert!(matches!(err.kind, RenderErrorKind::Malformed(_)), "{err}");
    assert!(!err.is_temporary());
}

#[tokio::test]
async fn text_is_set_at_the_fonts_own_width() {
    let body = renderer()
        .render(&[part(
            "text/plain",
            Content::Text("Quarterly figures".into()),
        )])
        .await
        .expect("rendered");
    let pdf = body.to_pdf(None).await.expect("pdf");
    // `pdftotext -bbox` gives each word's box: 9 characters of DejaVu Sans Mono at 10 pt are
    // 9 × 6.02 pt wide (a reader that ignored the width would space them 10 pt apart).
    let html = tool("pdftotext", &["-bbox"], &pdf);
    let word = html
        .lines()
        .find(|l| l.contains(">Quarterly<"))
        .unwrap_or_else(|| panic!("no word box in {html}"));
    let attr = |name: &str| -> f64 {
        let start = word.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
        word[start..]
            .split('"')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("number")
    };
    let width = attr("xMax") - attr("xMin");
    assert!(
        (width - 54.2).abs() < 1.0,
        "word is {width} pt wide: {word}"
    );
}
