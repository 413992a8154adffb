//! Hostile input: truncated files, huge declared sizes, offsets out of range, empty or
//! missing strips, cyclic IFD chains, decompression bombs and random mutations of the samples.
//! Every case must give an error (of the right kind where it is clear), never a panic, and
//! must stay within the limits (checked by giving the limits that would be exceeded).
#![allow(clippy::unwrap_used)]

mod common;

use proptest::prelude::*;
use umsgate_fax::{
    ErrorKind, Limits, decode_page, first_page_png, page_count, page_count_with, tiff_to_pdf,
};

/// A hand-made TIFF: entries are (tag, type, values); SHORT = 3, LONG = 4, RATIONAL = 5 (values
/// in numerator/denominator pairs).
type Entries = Vec<(u16, u16, Vec<u32>)>;

struct Builder {
    big_endian: bool,
    data: Vec<u8>,
}

impl Builder {
    fn new(big_endian: bool) -> Self {
        let mut data = if big_endian {
            b"MM\0*".to_vec()
        } else {
            b"II*\0".to_vec()
        };
        data.extend([0; 4]);
        Self { big_endian, data }
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn blob(&mut self, bytes: &[u8]) -> u32 {
        if self.data.len() % 2 == 1 {
            self.data.push(0);
        }
        let at = self.data.len() as u32;
        self.data.extend_from_slice(bytes);
        at
    }

    /// Appends an IFD and returns the offset of its next-IFD field and its own offset.
    fn ifd(&mut self, mut entries: Entries) -> (usize, u32) {
        entries.sort_by_key(|e| e.0);
        let mut fields = Vec::new();
        for (tag, typ, values) in &entries {
            let mut raw = Vec::new();
            for v in values {
                match typ {
                    3 => raw.extend(self.u16(*v as u16)),
                    _ => raw.extend(self.u32(*v)),
                }
            }
            let count = if *typ == 5 {
                values.len() / 2
            } else {
                values.len()
            } as u32;
            let field = if raw.len() <= 4 {
                raw.resize(4, 0);
                raw
            } else {
                let at = self.blob(&raw);
                self.u32(at).to_vec()
            };
            fields.push((*tag, *typ, count, field));
        }
        if self.data.len() % 2 == 1 {
            self.data.push(0);
        }
        let at = self.data.len() as u32;
        let n = self.u16(entries.len() as u16);
        self.data.extend(n);
        for (tag, typ, count, field) in fields {
            let (a, b, c) = (self.u16(tag), self.u16(typ), self.u32(count));
            self.data.extend(a);
            self.data.extend(b);
            self.data.extend(c);
            self.data.extend(field);
        }
        let next_field = self.data.len();
        self.data.extend([0; 4]);
        (next_field, at)
    }

    fn set_u32(&mut self, at: usize, v: u32) {
        let b = self.u32(v);
        self.data[at..at + 4].copy_from_slice(&b);
    }
}

/// Entries of a valid 16 x 4 uncompressed page whose strip is at `strip`.
fn page_entries(strip: u32, width: u32, height: u32, bytes: u32) -> Entries {
    vec![
        (256, 4, vec![width]),
        (257, 4, vec![height]),
        (258, 3, vec![1]),
        (259, 3, vec![1]),
        (262, 3, vec![0]),
        (273, 4, vec![strip]),
        (277, 3, vec![1]),
        (278, 4, vec![height]),
        (279, 4, vec![bytes]),
        (282, 5, vec![204, 1]),
        (283, 5, vec![196, 1]),
        (296, 3, vec![2]),
    ]
}

/// A valid file of `pages` pages; `edit` may change each page's entries.
fn file_with(big_endian: bool, pages: usize, edit: impl Fn(&mut Entries)) -> Vec<u8> {
    let mut b = Builder::new(big_endian);
    let strip = b.blob(&[0x0f, 0xf0, 0x3c, 0x3c, 0xff, 0x00, 0x81, 0x81]);
    let mut prev: Option<usize> = None;
    for _ in 0..pages {
        let mut e = page_entries(strip, 16, 4, 8);
        edit(&mut e);
        let (next_field, at) = b.ifd(e);
        match prev {
            None => b.set_u32(4, at),
            Some(p) => b.set_u32(p, at),
        }
        prev = Some(next_field);
    }
    b.data
}

fn set(entries: &mut Entries, tag: u16, typ: u16, values: Vec<u32>) {
    entries.retain(|e| e.0 != tag);
    entries.push((tag, typ, values));
}

fn kind_of(r: Result<impl Sized, umsgate_fax::Error>) -> ErrorKind {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
            assert_eq!(text, text.to_lowercase(), "display is lowercase");
            e.kind()
        }
    }
}

/// Runs every entry point; none may panic.
fn all_entry_points(bytes: &[u8], limits: &Limits) {
    let _ = tiff_to_pdf(&[bytes], limits);
    let _ = page_count_with(bytes, limits);
    let _ = first_page_png(bytes, limits);
    let _ = decode_page(bytes, 1, limits);
}

#[test]
fn the_hand_made_files_are_valid() {
    for big in [false, true] {
        let f = file_with(big, 2, |_| {});
        assert_eq!(page_count(&f).unwrap(), 2);
        let bm = decode_page(&f, 0, &Limits::default()).unwrap();
        assert_eq!(bm.row(0).unwrap(), &[0x0f, 0xf0]);
        assert_eq!(
            page_count(&tiff_to_pdf(&[&f], &Limits::default()).unwrap()).unwrap(),
            2
        );
    }
}

#[test]
fn ccitt_rle_pages_decode_and_convert() {
    // Compression 2, 8 x 2: row 0 = white 8 ("10011"), row 1 = white 2, black 3, white 3
    // ("0111" "10" "1000"); each row starts on a byte.
    let mut b = Builder::new(false);
    let strip = b.blob(&[0x98, 0x7a, 0x00]);
    let mut e = page_entries(strip, 8, 2, 3);
    set(&mut e, 259, 3, vec![2]);
    let (_, at) = b.ifd(e);
    b.set_u32(4, at);
    let bm = decode_page(&b.data, 0, &Limits::default()).unwrap();
    assert_eq!(bm.as_bytes(), &[0x00, 0b0011_1000]);
    let pdf = tiff_to_pdf(&[&b.data], &Limits::default()).unwrap();
    assert_eq!(page_count(&pdf).unwrap(), 1);
}

#[test]
fn truncated_files_are_errors() {
    // Cuts inside the strips are the proptest's job; here the reader is the target, so the
    // (slow in debug builds) full-page decodes are refused by the pixel limit.
    let mut limits = Limits::default();
    limits.max_pixels = 100_000;
    for name in ["fax_1p_g3_1d", "fax_3p_g4"] {
        let full = common::read_sample(name);
        // The first IFD sits near the end of these files: any shorter prefix must fail.
        let first_ifd = u32::from_le_bytes([full[4], full[5], full[6], full[7]]) as usize;
        let mut cuts: Vec<usize> = (0..full.len()).step_by(1777).collect();
        cuts.extend((full.len() - 600)..full.len());
        for cut in cuts {
            let part = &full[..cut];
            all_entry_points(part, &limits);
            if cut < first_ifd {
                assert!(
                    tiff_to_pdf(&[part], &limits).is_err(),
                    "{name} cut at {cut}"
                );
                assert!(page_count(part).is_err());
            }
        }
    }
    assert_eq!(kind_of(page_count(b"II*\0")), ErrorKind::Truncated);
    assert_eq!(kind_of(page_count(b"")), ErrorKind::UnknownFormat);
}

#[test]
fn huge_declared_sizes_hit_the_limits() {
    let limits = Limits::default();
    let big = file_with(false, 1, |e| set(e, 256, 4, vec![u32::MAX]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&big], &limits)),
        ErrorKind::LimitExceeded
    );
    let tall = file_with(true, 1, |e| set(e, 257, 4, vec![4_000_000_000]));
    assert_eq!(kind_of(page_count(&tall)), ErrorKind::LimitExceeded);
    // A strip byte count of 4 GB: out of the limit before it is even looked up.
    let strip = file_with(false, 1, |e| set(e, 279, 4, vec![u32::MAX]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&strip], &limits)),
        ErrorKind::LimitExceeded
    );
    // Within the strip limit but past the end of the file.
    let mut small = Limits::default();
    small.max_strip_bytes = usize::MAX;
    assert_eq!(
        kind_of(tiff_to_pdf(&[&strip], &small)),
        ErrorKind::Truncated
    );
    // 1 row per strip on a 65000-row page: more strips than allowed.
    let strips = file_with(false, 1, |e| {
        set(e, 257, 4, vec![65_000]);
        set(e, 278, 4, vec![1]);
    });
    let mut few = Limits::default();
    few.max_strips_per_page = 1000;
    assert_eq!(
        kind_of(tiff_to_pdf(&[&strips], &few)),
        ErrorKind::LimitExceeded
    );
    // Decompression bomb: a 10000 x 65000 page passes the reader but not the pixel limit.
    let bomb = file_with(false, 1, |e| {
        set(e, 256, 4, vec![10_000]);
        set(e, 257, 4, vec![65_000]);
        set(e, 278, 4, vec![65_000]);
        set(e, 259, 3, vec![4]);
    });
    assert_eq!(
        kind_of(first_page_png(&bomb, &limits)),
        ErrorKind::LimitExceeded
    );
    // An IFD that claims 65535 entries.
    let mut many = file_with(false, 1, |_| {});
    let ifd = u32::from_le_bytes([many[4], many[5], many[6], many[7]]) as usize;
    many[ifd] = 0xff;
    many[ifd + 1] = 0xff;
    assert_eq!(kind_of(page_count(&many)), ErrorKind::LimitExceeded);
    // Too many pages, and too large an input.
    let pages = file_with(false, 5, |_| {});
    let mut three = Limits::default();
    three.max_pages = 3;
    assert_eq!(
        kind_of(page_count_with(&pages, &three)),
        ErrorKind::LimitExceeded
    );
    let mut tiny = Limits::default();
    tiny.max_input_bytes = 100;
    assert_eq!(
        kind_of(tiff_to_pdf(&[&pages], &tiny)),
        ErrorKind::LimitExceeded
    );
}

#[test]
fn offsets_out_of_range_are_errors() {
    let limits = Limits::default();
    let strip = file_with(false, 1, |e| set(e, 273, 4, vec![0xffff_fff0]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&strip], &limits)),
        ErrorKind::Truncated
    );
    let mut ifd = file_with(true, 1, |_| {});
    ifd[4..8].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    assert_eq!(kind_of(page_count(&ifd)), ErrorKind::Truncated);
    // Out-of-line values (a rational) pointing past the end.
    let mut values = file_with(false, 1, |e| set(e, 282, 5, vec![204, 1]));
    let at = values.windows(2).position(|w| w == [0x1a, 0x01]).unwrap(); // tag 282, LE
    values[at + 8..at + 12].copy_from_slice(&0xffff_0000u32.to_le_bytes());
    assert_eq!(kind_of(page_count(&values)), ErrorKind::Truncated);
    // Strip offsets whose out-of-line array lies past the end.
    let arr = file_with(false, 1, |e| {
        set(e, 278, 4, vec![1]);
        set(e, 273, 4, vec![8, 8, 8, 8]);
        set(e, 279, 4, vec![2, 2, 2, 2]);
    });
    let at = arr
        .windows(4)
        .position(|w| w == [0x11, 0x01, 4, 0])
        .unwrap(); // tag 273, LONG
    let mut arr = arr;
    arr[at + 8..at + 12].copy_from_slice(&0x00ff_0000u32.to_le_bytes());
    assert_eq!(kind_of(tiff_to_pdf(&[&arr], &limits)), ErrorKind::Truncated);
}

#[test]
fn zero_and_missing_strips_are_errors() {
    let limits = Limits::default();
    let empty = file_with(false, 1, |e| set(e, 279, 4, vec![0]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&empty], &limits)),
        ErrorKind::Malformed
    );
    let none = file_with(false, 1, |e| {
        set(e, 273, 4, vec![]);
        set(e, 279, 4, vec![]);
    });
    assert_eq!(
        kind_of(tiff_to_pdf(&[&none], &limits)),
        ErrorKind::Malformed
    );
    let missing = file_with(false, 1, |e| e.retain(|x| x.0 != 279));
    assert_eq!(kind_of(page_count(&missing)), ErrorKind::Malformed);
    // Four strips needed (rows per strip 1), one given.
    let short = file_with(false, 1, |e| set(e, 278, 4, vec![1]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&short], &limits)),
        ErrorKind::Malformed
    );
    let zero_size = file_with(false, 1, |e| set(e, 256, 4, vec![0]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&zero_size], &limits)),
        ErrorKind::Malformed
    );
    // Uncompressed strip shorter than its rows.
    let short_data = file_with(false, 1, |e| set(e, 279, 4, vec![3]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&short_data], &limits)),
        ErrorKind::Truncated
    );
}

#[test]
fn cyclic_ifd_chains_are_errors() {
    // One IFD pointing to itself.
    let mut b = Builder::new(false);
    let strip = b.blob(&[0; 8]);
    let (next, at) = b.ifd(page_entries(strip, 16, 4, 8));
    b.set_u32(4, at);
    b.set_u32(next, at);
    assert_eq!(kind_of(page_count(&b.data)), ErrorKind::Malformed);
    assert_eq!(
        kind_of(tiff_to_pdf(&[&b.data], &Limits::default())),
        ErrorKind::Malformed
    );
    // Three IFDs, the last pointing back to the second; also in big-endian.
    for big in [false, true] {
        let mut b = Builder::new(big);
        let strip = b.blob(&[0; 8]);
        let (n1, a1) = b.ifd(page_entries(strip, 16, 4, 8));
        let (n2, a2) = b.ifd(page_entries(strip, 16, 4, 8));
        let (n3, a3) = b.ifd(page_entries(strip, 16, 4, 8));
        b.set_u32(4, a1);
        b.set_u32(n1, a2);
        b.set_u32(n2, a3);
        b.set_u32(n3, a2);
        assert_eq!(kind_of(page_count(&b.data)), ErrorKind::Malformed);
    }
    // A long chain of thumbnails (skipped, not pages) is still bounded.
    let thumbs = file_with(false, 50, |e| set(e, 254, 4, vec![1]));
    let mut few = Limits::default();
    few.max_pages = 10;
    assert_eq!(
        kind_of(page_count_with(&thumbs, &few)),
        ErrorKind::LimitExceeded
    );
    assert_eq!(
        kind_of(page_count(&thumbs)),
        ErrorKind::Malformed,
        "no full-resolution page"
    );
}

#[test]
fn unsupported_and_unknown_inputs() {
    let limits = Limits::default();
    let color = file_with(false, 1, |e| set(e, 258, 3, vec![8]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&color], &limits)),
        ErrorKind::Unsupported
    );
    let jpeg = file_with(false, 1, |e| set(e, 259, 3, vec![7]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&jpeg], &limits)),
        ErrorKind::Unsupported
    );
    let tiled = file_with(false, 1, |e| set(e, 322, 4, vec![16]));
    assert_eq!(
        kind_of(tiff_to_pdf(&[&tiled], &limits)),
        ErrorKind::Unsupported
    );
    assert_eq!(
        kind_of(page_count(b"II+\0\x08\0\0\0")),
        ErrorKind::Unsupported
    );
    assert_eq!(kind_of(page_count(b"GIF89a")), ErrorKind::UnknownFormat);
    assert_eq!(
        kind_of(page_count(b"%PDF-1.4\nnot really a pdf")),
        ErrorKind::Pdf
    );
    assert_eq!(
        kind_of(tiff_to_pdf(&[b"%PDF-1.4"], &limits)),
        ErrorKind::UnknownFormat
    );
    // Garbage CCITT data in a G4 page: an error or a (partly) white page, never a panic.
    let g4 = file_with(false, 1, |e| set(e, 259, 3, vec![4]));
    let _ = first_page_png(&g4, &limits);
    let pdf = tiff_to_pdf(&[&g4], &limits).unwrap();
    assert_eq!(page_count(&pdf).unwrap(), 1);
}

/// A sample with `edits` (position, value) applied and cut to `keep` bytes.
fn mutate(base: &[u8], edits: &[(usize, u8)], keep: usize) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(i, b) in edits {
        let n = v.len();
        v[i % n] = b;
    }
    v.truncate(keep.max(8));
    v
}

proptest! {
    // Each case decodes up to two full fax pages (in a debug build), so keep the count modest;
    // the fuzz target covers the same ground at volume.
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Mutations anywhere in the file (mostly strip data, exercising the decoders).
    #[test]
    fn mutated_samples_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..40),
        keep in any::<usize>(),
    ) {
        let name = ["fax_1p_g3_1d", "fax_3p_g3_2d", "fax_3p_g4"][which];
        let base = common::read_sample(name);
        let keep = if keep % 4 == 0 { keep % base.len() } else { base.len() };
        let bytes = mutate(&base, &edits, keep);
        let mut limits = Limits::default();
        limits.max_pixels = 8_000_000;
        all_entry_points(&bytes, &limits);
    }

    /// Mutations in the IFD area at the end of the file (exercising the reader).
    #[test]
    fn mutated_directories_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((0usize..600, any::<u8>()), 1..12),
    ) {
        let name = ["fax_1p_g3_1d", "fax_3p_g3_2d", "fax_3p_g4"][which];
        let base = common::read_sample(name);
        let tail = base.len() - 600;
        let edits: Vec<(usize, u8)> = edits.into_iter().map(|(i, b)| (tail + i, b)).collect();
        let bytes = mutate(&base, &edits, base.len());
        let mut limits = Limits::default();
        limits.max_pixels = 1_000_000; // the reader is the target here, not the decoders
        all_entry_points(&bytes, &limits);
    }
}
