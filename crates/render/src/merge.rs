//! PDF documents → one PDF, pages in order; page counts.
//!
//! Contract: takes PDFs that were parsed once already (our own output or a sender's PDF
//! that [`count`] accepted); a document that cannot be read, or is password-protected
//! beyond the empty user password, is an error naming its index. Attributes a page
//! inherits from its old page tree (`Resources`, `MediaBox`, `CropBox`, `Rotate`) are copied
//! onto the page, so every page looks as it did. Outlines, forms and the old catalogs are
//! dropped: a fax has pages, nothing else.
//!
//! Implementation summary: `lopdf` loads each document, renumbers its objects past the
//! previous one's, re-parents its pages under one new page tree; unreferenced objects are
//! pruned before saving.

use lopdf::{Dictionary, Document, Object, ObjectId};

/// The inherited page attributes (PDF 32000-1, 7.7.3.4).
const INHERITED: [&[u8]; 4] = [b"Resources", b"MediaBox", b"CropBox", b"Rotate"];

/// Why a PDF cannot be used.
#[derive(Debug)]
pub(crate) enum PdfError {
    /// lopdf could not read it.
    Unreadable(lopdf::Error),
    /// It needs a password.
    Encrypted,
    /// It has no page.
    NoPages,
    /// The merged document could not be written.
    Write(std::io::Error),
}

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PdfError::Unreadable(e) => write!(f, "{e}"),
            PdfError::Encrypted => f.write_str("the document is password-protected"),
            PdfError::NoPages => f.write_str("the document has no pages"),
            PdfError::Write(e) => write!(f, "cannot write the merged document: {e}"),
        }
    }
}

impl std::error::Error for PdfError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PdfError::Unreadable(e) => Some(e),
            PdfError::Write(e) => Some(e),
            PdfError::Encrypted | PdfError::NoPages => None,
        }
    }
}

/// Loads a PDF, opening one that is encrypted with an empty user password.
pub(crate) fn load(data: &[u8]) -> Result<Document, PdfError> {
    let mut doc = Document::load_mem(data).map_err(PdfError::Unreadable)?;
    if doc.is_encrypted() {
        doc.decrypt("").map_err(|_| PdfError::Encrypted)?;
    }
    Ok(doc)
}

/// Pages of a PDF.
pub(crate) fn count(data: &[u8]) -> Result<u32, PdfError> {
    let doc = load(data)?;
    let n = doc.get_pages().len();
    if n == 0 {
        return Err(PdfError::NoPages);
    }
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Why documents could not be merged: which one (`documents.len()` for the result), and why.
#[derive(Debug)]
pub(crate) struct MergeError {
    pub(crate) index: usize,
    pub(crate) error: PdfError,
}

/// Concatenates `documents` into one PDF.
pub(crate) fn merge(documents: &[&[u8]]) -> Result<Vec<u8>, MergeError> {
    let mut out = Document::with_version("1.7");
    let tree_id = out.new_object_id();
    let mut kids: Vec<Object> = Vec::new();
    for (index, data) in documents.iter().enumerate() {
        let fail = |error: PdfError| MergeError { index, error };
        let mut doc = load(data).map_err(fail)?;
        doc.renumber_objects_with(out.max_id + 1);
        out.max_id = out.max_id.max(doc.max_id);
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if pages.is_empty() {
            return Err(fail(PdfError::NoPages));
        }
        for page_id in &pages {
            let inherited = inherited_attributes(&doc, *page_id);
            if let Ok(Object::Dictionary(page)) = doc.objects.get_mut(page_id).ok_or(()) {
                for (key, value) in inherited {
                    if !page.has(key) {
                        page.set(key.to_vec(), value);
                    }
                }
                page.set("Parent", tree_id);
            }
            kids.push(Object::Reference(*page_id));
        }
        for (id, object) in doc.objects {
            if !is_tree_node(&object) {
                out.objects.insert(id, object);
            }
        }
    }
    let count = i64::try_from(kids.len()).unwrap_or(i64::MAX);
    let mut tree = Dictionary::new();
    tree.set("Type", Object::Name(b"Pages".to_vec()));
    tree.set("Kids", Object::Array(kids));
    tree.set("Count", count);
    out.objects.insert(tree_id, Object::Dictionary(tree));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", tree_id);
    let catalog_id = out.add_object(catalog);
    out.trailer.set("Root", catalog_id);
    out.prune_objects();
    let mut bytes = Vec::new();
    out.save_to(&mut bytes).map_err(|e| MergeError {
        index: documents.len(),
        error: PdfError::Write(e),
    })?;
    Ok(bytes)
}

/// A catalog or an interior node of a page tree: replaced by the merged document's own.
fn is_tree_node(object: &Object) -> bool {
    let Object::Dictionary(d) = object else {
        return false;
    };
    matches!(d.get(b"Type"), Ok(Object::Name(n)) if n == b"Pages" || n == b"Catalog")
}

/// What a page inherits from its ancestors, nearest first, for the keys it lacks.
fn inherited_attributes(doc: &Document, page_id: ObjectId) -> Vec<(&'static [u8], Object)> {
    let mut found: Vec<(&'static [u8], Object)> = Vec::new();
    let Ok(page) = doc.get_dictionary(page_id) else {
        return found;
    };
    let mut parent = page.get(b"Parent").and_then(Object::as_reference).ok();
    // A page tree is shallow; a cycle or an absurd depth ends the walk.
    for _ in 0..64 {
        let Some(id) = parent else { break };
        let Ok(node) = doc.get_dictionary(id) else {
            break;
        };
        for key in INHERITED {
            if !page.has(key)
                && !found.iter().any(|(k, _)| *k == key)
                && let Ok(value) = node.get(key)
            {
                found.push((key, value.clone()));
            }
        }
        parent = node.get(b"Parent").and_then(Object::as_reference).ok();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Geometry, paginate};
    use crate::text_pdf;

    fn text(n_lines: usize) -> Vec<u8> {
        let t: String = (0..n_lines).map(|i| format!("{i}\n")).collect();
        text_pdf::write(&paginate(&t, Geometry::default())).expect("pdf")
    }

    #[test]
    fn pages_add_up_in_order() {
        let a = text(10);
        let b = text(130);
        let merged = merge(&[&a, &b]).expect("merged");
        assert_eq!(count(&merged).expect("count"), 4);
        let doc = load(&merged).expect("load");
        // Every page has what it needs to be drawn.
        for id in doc.get_pages().values() {
            let page = doc.get_dictionary(*id).expect("page");
            assert!(page.has(b"MediaBox") && page.has(b"Resources"));
        }
    }

    #[test]
    fn a_broken_document_is_named_by_its_index() {
        let a = text(1);
        let err = merge(&[&a, b"%PDF-1.4 nonsense"]).expect_err("broken");
        assert_eq!(err.index, 1);
    }

    #[test]
    fn fax_pages_and_text_pages_merge() {
        let fax = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/samples/fax_3p_g4.tif"
        ))
        .expect("sample");
        let pdf = umsgate_fax::tiff_to_pdf(&[&fax], &umsgate_fax::Limits::default()).expect("pdf");
        let merged = merge(&[&pdf, &text(1)]).expect("merged");
        assert_eq!(count(&merged).expect("count"), 4);
    }
}
