//! Cover pages: templates an administrator edits without a programmer, filled with the job's
//! fields and drawn as one vector A4 PDF page. Two defaults ship in the binary.
//!
//! Format: one file per cover in `covers_dir`, `<name>.svg` (draw it in Inkscape or any SVG
//! editor), with MiniJinja placeholders where the job's values go:
//!
//! | placeholder | value |
//! |---|---|
//! | `{{ recipient_number }}`, `{{ recipient_name }}` | the fax number as the user wrote it, the address' display name |
//! | `{{ sender_name }}`, `{{ sender_address }}` | from the directory, the sender's mail address |
//! | `{{ company }}` `{{ street }}` `{{ zip }}` `{{ city }}` `{{ department }}` `{{ office }}` `{{ phone }}` `{{ fax }}` `{{ custom1 }}` `{{ custom2 }}` `{{ custom3 }}` | the directory fields of the `coverpage` map |
//! | `{{ subject }}`, `{{ date }}`, `{{ pages }}` | the mail's subject, the date in the sender's language, pages of the fax with the cover |
//! | `{{ body }}`, `body_lines` | the body text when the cover carries it; its lines wrapped at 80 columns |
//! | `wrap(text, columns[, max_lines])` | `text` as lines of at most `columns` characters (at most `max_lines`, the last one ending in `…` when cut) |
//!
//! The body goes on the cover line by line, for example
//! `{% for line in wrap(body, 80, 30) %}<text x="56" y="{{ 400 + loop.index0 * 14 }}">{{ line }}</text>{% endfor %}`.
//! A field that is not known is an error when the template is loaded (a typo shows at once);
//! an empty field renders as nothing (`{% if phone %}…{% endif %}` leaves out a whole line).
//! `<name>.sms.txt` next to it holds the header text put before an SMS sent with that cover
//! name. Text is drawn with the embedded DejaVu Sans (regular and bold): any `font-family`
//! resolves to it. Images (SVG, PNG, JPEG, GIF; a logo) are drawn; a relative
//! `href` is read from `covers_dir`.
//!
//! Contract:
//! - [`Covers::load`] reads and checks every template once; a template that cannot be read,
//!   does not parse, names an unknown field or does not draw is left out and listed in
//!   [`Covers::problems`] with its file (for `umsgate check`), the others stay usable.
//! - Values are XML-escaped where they are put into the SVG and control characters are
//!   dropped from them: a field cannot add markup or break the document.
//! - [`Covers::render`] gives one A4 page (595 × 842 pt) whatever size the SVG declares,
//!   scaled to fit and centred; an unknown cover name falls back to the default and says so
//!   ([`RenderedCover::fell_back`]) for the log.
//! - Bounded: templates of at most 1 MiB, at most 200 covers, field values cut at 500
//!   characters, the body at 64 KiB before it is wrapped.
//!
//! Implementation summary: MiniJinja (autoescape on, undefined fields strict) renders the SVG
//! text; `usvg` parses it with a font database holding the embedded fonts; `svg2pdf` draws it
//! as vector PDF (text embedded, subset fonts); `lopdf` sets the A4 media box and centres the
//! drawing when the template is not A4.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::fonts;
use crate::layout::{Geometry, paginate};
use crate::page::{HEIGHT_PT, WIDTH_PT};

/// The shipped covers: name and SVG template.
const BUILT_IN: [(&str, &str); 2] = [
    ("standard", include_str!("../covers/standard.svg")),
    ("compact", include_str!("../covers/compact.svg")),
];

/// The cover used when none is named (`cover.force`) or the named one does not exist.
pub const DEFAULT_COVER: &str = "standard";

/// Largest template or SMS header file read, bytes.
const MAX_FILE: u64 = 1 << 20;
/// Most covers read from a folder.
const MAX_COVERS: usize = 200;
/// Longest field value, characters (longer ones are cut).
const MAX_FIELD: usize = 500;
/// Longest body put on a cover, bytes (cut at a character boundary before wrapping).
const MAX_BODY: usize = 64 << 10;
/// Most lines `wrap` returns.
const MAX_WRAP_LINES: usize = 1000;

/// The field names a template may use, besides `body`, `body_lines` and `pages`.
const DIRECTORY_FIELDS: [&str; 11] = [
    "company",
    "street",
    "zip",
    "city",
    "department",
    "office",
    "phone",
    "fax",
    "custom1",
    "custom2",
    "custom3",
];

/// What a cover page can show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverFields {
    /// Recipient fax number as the user wrote it (spaced canonical form).
    pub recipient_number: String,
    /// The display name of the recipient address, if any.
    pub recipient_name: Option<String>,
    /// The sender's name from the directory.
    pub sender_name: Option<String>,
    /// The sender's mail address.
    pub sender_address: String,
    /// Directory fields of the `coverpage` map: company, street, zip, city, department,
    /// office, phone, fax, custom1..3.
    pub sender_fields: BTreeMap<String, String>,
    pub subject: Option<String>,
    /// Date the fax was written, already formatted for the sender's language.
    pub date: String,
    /// Pages of the whole fax, cover included.
    pub pages: u32,
    /// The body text, when the cover carries it.
    pub body: Option<String>,
}

/// A rendered cover page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedCover {
    /// One A4 page.
    pub pdf: Vec<u8>,
    /// The cover that was drawn.
    pub used: String,
    /// A cover was named but does not exist: the default was drawn instead.
    pub fell_back: bool,
}

/// Why a cover could not be loaded or drawn.
#[derive(Debug)]
#[non_exhaustive]
pub enum CoverError {
    /// The covers folder cannot be listed.
    Folder {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// A template or header file cannot be read.
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// A file is larger than templates may be.
    TooLarge { file: PathBuf, bytes: u64 },
    /// More covers in the folder than are read; this file was left out.
    TooMany { file: PathBuf },
    /// A template does not parse, or names a field that does not exist.
    Template {
        file: PathBuf,
        source: minijinja::Error,
    },
    /// The filled template is not an SVG `usvg` can read.
    Svg { file: PathBuf, source: usvg::Error },
    /// The SVG could not be drawn as PDF.
    Pdf { file: PathBuf, reason: String },
    /// The default cover itself cannot be drawn (only when a folder's `standard.svg` replaced
    /// it and fails).
    NoDefault,
}

impl fmt::Display for CoverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoverError::Folder { dir, .. } => {
                write!(f, "cannot list the covers folder {}", dir.display())
            }
            CoverError::Read { file, .. } => write!(f, "cannot read {}", file.display()),
            CoverError::TooLarge { file, bytes } => write!(
                f,
                "{}: {bytes} bytes, more than the {MAX_FILE} a cover may have",
                file.display()
            ),
            CoverError::TooMany { file } => write!(
                f,
                "{}: left out, a covers folder holds at most {MAX_COVERS} covers",
                file.display()
            ),
            CoverError::Template { file, source } => {
                write!(f, "{}: template error: {source}", file.display())
            }
            CoverError::Svg { file, source } => {
                write!(
                    f,
                    "{}: not a valid SVG once filled: {source}",
                    file.display()
                )
            }
            CoverError::Pdf { file, reason } => {
                write!(f, "{}: cannot be drawn: {reason}", file.display())
            }
            CoverError::NoDefault => write!(f, "the default cover {DEFAULT_COVER} cannot be drawn"),
        }
    }
}

impl std::error::Error for CoverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CoverError::Folder { source, .. } | CoverError::Read { source, .. } => Some(source),
            CoverError::Template { source, .. } => Some(source),
            CoverError::Svg { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// One loaded cover.
#[derive(Debug)]
struct Cover {
    /// Where it came from (a path, or `built-in:<name>`), for errors.
    file: PathBuf,
    /// The template shows the message (`body` or `body_lines`).
    shows_body: bool,
    /// Folder its relative references resolve against.
    resources: Option<PathBuf>,
}

/// The covers of a site: the built-in ones, replaced or joined by those of `covers_dir`.
pub struct Covers {
    env: Environment<'static>,
    covers: BTreeMap<String, Cover>,
    sms: BTreeMap<String, String>,
    fontdb: Arc<usvg::fontdb::Database>,
    problems: Vec<CoverError>,
}

impl fmt::Debug for Covers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Covers")
            .field("covers", &self.covers)
            .field("sms", &self.sms.keys())
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

/// A cover name as users write it: the file stem, compared without case.
fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// File stems that name a cover: letters, digits, `-`, `_`, `.`, not starting with `.`.
fn valid_stem(stem: &str) -> bool {
    !stem.is_empty()
        && !stem.starts_with('.')
        && stem.len() <= 100
        && stem
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Covers {
    /// The built-in covers plus every `*.svg` and `*.sms.txt` of `dir` (a file named like a
    /// built-in cover replaces it). Fails only when `dir` cannot be listed; each file that
    /// cannot be used is in [`Covers::problems`].
    pub fn load(dir: Option<&Path>) -> Result<Covers, CoverError> {
        let mut covers = Covers {
            env: environment(),
            covers: BTreeMap::new(),
            sms: BTreeMap::new(),
            fontdb: Arc::new(font_database()),
            problems: Vec::new(),
        };
        for (name, source) in BUILT_IN {
            covers.add(
                name,
                source.to_owned(),
                PathBuf::from(format!("built-in:{name}")),
                None,
            );
        }
        let Some(dir) = dir else {
            return Ok(covers);
        };
        let entries = std::fs::read_dir(dir).map_err(|source| CoverError::Folder {
            dir: dir.to_owned(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let mut read = 0usize;
        for file in files {
            let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let lower = name.to_lowercase();
            let (stem, is_sms) = if let Some(stem) = lower.strip_suffix(".sms.txt") {
                (stem.to_owned(), true)
            } else if let Some(stem) = lower.strip_suffix(".svg") {
                (stem.to_owned(), false)
            } else {
                continue;
            };
            if !valid_stem(&stem) {
                continue;
            }
            read += 1;
            if read > MAX_COVERS {
                covers.problems.push(CoverError::TooMany { file });
                continue;
            }
            let text = match read_bounded(&file) {
                Ok(t) => t,
                Err(e) => {
                    covers.problems.push(e);
                    continue;
                }
            };
            if is_sms {
                covers.sms.insert(stem, text.trim_end().to_owned());
            } else {
                covers.add(&stem, text, file.clone(), Some(dir.to_owned()));
            }
        }
        Ok(covers)
    }

    /// Compiles and test-draws one template; keeps it if it works, records why if not.
    fn add(&mut self, name: &str, source: String, file: PathBuf, resources: Option<PathBuf>) {
        let name = key(name);
        if let Err(source) = self.env.add_template_owned(name.clone(), source) {
            self.covers.remove(&name);
            self.problems.push(CoverError::Template { file, source });
            return;
        }
        let shows_body = self.env.get_template(&name).is_ok_and(|t| {
            let used = t.undeclared_variables(false);
            used.contains("body") || used.contains("body_lines")
        });
        let cover = Cover {
            file,
            shows_body,
            resources,
        };
        match self.draw(&name, &cover, &sample_fields()) {
            Ok(_) => {
                self.covers.insert(name, cover);
            }
            Err(e) => {
                self.env.remove_template(&name);
                self.covers.remove(&name);
                self.problems.push(e);
            }
        }
    }

    /// Names of the usable covers, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.covers.keys().map(String::as_str)
    }

    /// The cover drawn when none is named.
    pub fn default_name(&self) -> &str {
        DEFAULT_COVER
    }

    /// Files that could not be used, each with its reason.
    pub fn problems(&self) -> &[CoverError] {
        &self.problems
    }

    /// The SMS header text for cover `name` (`<name>.sms.txt`), if there is one; without a
    /// name, the default cover's.
    pub fn sms_header(&self, name: Option<&str>) -> Option<&str> {
        let name = name.map_or_else(|| DEFAULT_COVER.to_owned(), key);
        self.sms.get(&name).map(String::as_str)
    }

    /// Whether cover `name` (the default when `None` or unknown) shows the message text, so
    /// that a short message can go on the cover instead of a page of its own.
    pub fn shows_body(&self, name: Option<&str>) -> bool {
        let wanted = name.map(key).filter(|n| self.covers.contains_key(n));
        let used = wanted.unwrap_or_else(|| DEFAULT_COVER.to_owned());
        self.covers.get(&used).is_some_and(|c| c.shows_body)
    }

    /// Draws cover `name` (the default when `None` or unknown) with `fields`.
    pub fn render(
        &self,
        name: Option<&str>,
        fields: &CoverFields,
    ) -> Result<RenderedCover, CoverError> {
        let wanted = name.map(key);
        let (used, fell_back) = match wanted {
            Some(n) if self.covers.contains_key(&n) => (n, false),
            Some(_) => (DEFAULT_COVER.to_owned(), true),
            None => (DEFAULT_COVER.to_owned(), false),
        };
        let cover = self.covers.get(&used).ok_or(CoverError::NoDefault)?;
        let pdf = self.draw(&used, cover, fields)?;
        Ok(RenderedCover {
            pdf,
            used,
            fell_back,
        })
    }

    fn draw(&self, name: &str, cover: &Cover, fields: &CoverFields) -> Result<Vec<u8>, CoverError> {
        let file = || cover.file.clone();
        let svg = self
            .env
            .get_template(name)
            .and_then(|t| t.render(context(fields)))
            .map_err(|source| CoverError::Template {
                file: file(),
                source,
            })?;
        let options = usvg::Options {
            resources_dir: cover.resources.clone(),
            font_family: "DejaVu Sans".to_owned(),
            fontdb: self.fontdb.clone(),
            ..usvg::Options::default()
        };
        let tree = usvg::Tree::from_str(&svg, &options).map_err(|source| CoverError::Svg {
            file: file(),
            source,
        })?;
        let size = tree.size();
        let (w, h) = (size.width(), size.height());
        // svg2pdf sizes the page as the SVG's size at `dpi`: choose it so the page fits A4.
        let scale = (WIDTH_PT / w).min(HEIGHT_PT / h);
        let page = svg2pdf::PageOptions { dpi: 72.0 / scale };
        let pdf =
            svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), page).map_err(|e| {
                CoverError::Pdf {
                    file: file(),
                    reason: e.to_string(),
                }
            })?;
        to_a4(pdf, w * scale, h * scale).map_err(|e| CoverError::Pdf {
            file: file(),
            reason: e.to_string(),
        })
    }
}

/// Sets an A4 media box and centres the drawing (`w` × `h` points) on it.
fn to_a4(pdf: Vec<u8>, w: f32, h: f32) -> Result<Vec<u8>, lopdf::Error> {
    use lopdf::{Dictionary, Object, Stream};
    if (w - WIDTH_PT).abs() < 0.5 && (h - HEIGHT_PT).abs() < 0.5 {
        return Ok(pdf);
    }
    let mut doc = lopdf::Document::load_mem(&pdf)?;
    let Some(&page) = doc.get_pages().values().next() else {
        return Err(lopdf::Error::PageNumberNotFound(1));
    };
    let (tx, ty) = ((WIDTH_PT - w) / 2.0, (HEIGHT_PT - h) / 2.0);
    let shift = doc.add_object(Stream::new(
        Dictionary::new(),
        format!("1 0 0 1 {tx:.3} {ty:.3} cm\n").into_bytes(),
    ));
    let mut contents = vec![Object::Reference(shift)];
    contents.extend(
        doc.get_page_contents(page)
            .into_iter()
            .map(Object::Reference),
    );
    let dict = doc.get_object_mut(page)?.as_dict_mut()?;
    dict.set(
        "MediaBox",
        vec![
            Object::Integer(0),
            Object::Integer(0),
            Object::Real(WIDTH_PT),
            Object::Real(HEIGHT_PT),
        ],
    );
    dict.remove(b"CropBox");
    dict.set("Contents", contents);
    let mut out = Vec::with_capacity(pdf.len() + 256);
    doc.save_to(&mut out)?;
    Ok(out)
}

fn read_bounded(file: &Path) -> Result<String, CoverError> {
    let read = |source| CoverError::Read {
        file: file.to_owned(),
        source,
    };
    let bytes = std::fs::metadata(file).map_err(read)?.len();
    if bytes > MAX_FILE {
        return Err(CoverError::TooLarge {
            file: file.to_owned(),
            bytes,
        });
    }
    let data = std::fs::read(file).map_err(read)?;
    Ok(String::from_utf8_lossy(&data).into_owned())
}

/// The embedded DejaVu Sans (regular, bold) as every generic family.
fn font_database() -> usvg::fontdb::Database {
    let mut db = usvg::fontdb::Database::new();
    db.load_font_data(fonts::SANS.to_vec());
    db.load_font_data(fonts::SANS_BOLD.to_vec());
    db.load_font_data(fonts::MONO.to_vec());
    db.set_serif_family("DejaVu Sans");
    db.set_sans_serif_family("DejaVu Sans");
    db.set_cursive_family("DejaVu Sans");
    db.set_fantasy_family("DejaVu Sans");
    db.set_monospace_family("DejaVu Sans Mono");
    db
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_function("wrap", wrap);
    env.add_filter("wrap", wrap);
    env
}

/// `wrap(text, columns[, max_lines])`: the text's lines, wrapped like text pages.
fn wrap(text: Option<String>, columns: u32, max_lines: Option<u32>) -> Vec<String> {
    let text = text.unwrap_or_default();
    let columns = (columns as usize).clamp(1, 400);
    let max = max_lines.map_or(MAX_WRAP_LINES, |m| (m as usize).min(MAX_WRAP_LINES));
    let mut lines: Vec<String> = paginate(
        &text,
        Geometry {
            columns,
            lines: usize::MAX,
        },
    )
    .into_iter()
    .flat_map(|p| p.lines)
    .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    if lines.len() > max {
        lines.truncate(max);
        if let Some(last) = lines.last_mut() {
            let keep: String = last.chars().take(columns.saturating_sub(1)).collect();
            *last = format!("{keep}…");
        }
    }
    lines
}

/// A value fit for an XML text node: no control characters (tabs and line ends become
/// blanks), no noncharacters XML forbids, at most [`MAX_FIELD`] characters.
fn clean(value: &str) -> String {
    value
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => None,
            c => Some(c),
        })
        .take(MAX_FIELD)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The body: line ends and form feeds kept (wrap reads them), other control characters out.
fn clean_body(body: &str) -> String {
    let mut end = body.len().min(MAX_BODY);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[..end]
        .chars()
        .filter(|&c| {
            matches!(c, '\n' | '\t' | '\x0c')
                || !(c.is_control() || c == '\u{fffe}' || c == '\u{ffff}')
        })
        .collect()
}

fn context(fields: &CoverFields) -> Value {
    let opt = |v: &Option<String>| clean(v.as_deref().unwrap_or(""));
    let mut ctx: BTreeMap<&str, Value> = BTreeMap::new();
    ctx.insert("recipient_number", clean(&fields.recipient_number).into());
    ctx.insert("recipient_name", opt(&fields.recipient_name).into());
    ctx.insert("sender_name", opt(&fields.sender_name).into());
    ctx.insert("sender_address", clean(&fields.sender_address).into());
    for name in DIRECTORY_FIELDS {
        let v = fields.sender_fields.get(name).map_or("", String::as_str);
        ctx.insert(name, clean(v).into());
    }
    ctx.insert("subject", opt(&fields.subject).into());
    ctx.insert("date", clean(&fields.date).into());
    ctx.insert("pages", fields.pages.into());
    let body = clean_body(fields.body.as_deref().unwrap_or(""));
    ctx.insert("body_lines", wrap(Some(body.clone()), 80, None).into());
    ctx.insert("body", body.into());
    Value::from_pairs(ctx)
}

/// Fields that fill every placeholder, for the check at load time.
fn sample_fields() -> CoverFields {
    CoverFields {
        recipient_number: "+49 30 1234567".to_owned(),
        recipient_name: Some("Recipient".to_owned()),
        sender_name: Some("Sender".to_owned()),
        sender_address: "sender@example.com".to_owned(),
        sender_fields: DIRECTORY_FIELDS
            .iter()
            .map(|f| ((*f).to_owned(), (*f).to_owned()))
            .collect(),
        subject: Some("Subject".to_owned()),
        date: "1 January 2026".to_owned(),
        pages: 2,
        body: Some("Body\nof the message".to_owned()),
    }
}

#[cfg(test)]
mod tests;
