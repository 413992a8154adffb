//! DATA: the strict message receiver.
//!
//! Contract: the message ends only at `CRLF . CRLF` (RFC 5321 §4.1.1.4). A bare LF or a bare
//! CR anywhere in the message is not guessed at: the message is read to its real end and
//! refused with a 5xx, so that `\n.\n`, `\n.\r\n`, `\r.\r\n` or `\r\n.\r` can never end one
//! message early and smuggle a second one in (SMTP smuggling). NUL octets and lines longer
//! than the limit are refused the same way. Dot-stuffing is undone. Bytes beyond
//! `max_size` are counted but not kept, so memory stays bounded whatever the client sends.
//! With a [`Reservation`], the buffer grows only by room taken from the listener's
//! [`MemoryBudget`](super::budget::MemoryBudget) first; when none is left the rest of the
//! message is read but not kept, and it ends in [`DataFault::NoMemory`] (unless it is refused
//! for a permanent reason anyway).

use super::budget::Reservation;

/// Growth step when doubling the buffer does not fit in the budget.
const BUDGET_STEP: usize = 1 << 20;

/// Why a received message is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFault {
    BareLineEnding,
    Nul,
    LineTooLong,
    TooBig,
    /// The listener's memory budget had no room left: a temporary refusal.
    NoMemory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Inside a line.
    Text,
    /// After a CR.
    Cr,
    /// At the start of a line (after CRLF, or at the very beginning).
    LineStart,
    /// A dot at the start of a line.
    Dot,
    /// Dot, CR at the start of a line.
    DotCr,
}

/// Incremental receiver; feed it whatever arrives.
#[derive(Debug)]
pub struct Receiver {
    state: State,
    message: Vec<u8>,
    /// Bytes of `message` that were given, not received.
    prefix_len: usize,
    max_size: usize,
    max_line: usize,
    line_len: usize,
    total: u64,
    fault: Option<DataFault>,
    /// Room for `message` beyond the prefix, when a budget applies.
    budget: Option<Reservation>,
    /// No room was left: nothing more is kept.
    starved: bool,
}

impl Receiver {
    pub fn new(max_size: usize, max_line: usize) -> Receiver {
        Receiver::with_prefix(Vec::new(), max_size, max_line)
    }

    /// A receiver whose message starts with `prefix` (a trace header written before the
    /// message arrives, so the message is never copied to put it in front). `max_size`
    /// counts the received bytes only.
    pub fn with_prefix(mut prefix: Vec<u8>, max_size: usize, max_line: usize) -> Receiver {
        prefix.reserve(max_size.min(64 * 1024));
        Receiver {
            state: State::LineStart,
            prefix_len: prefix.len(),
            message: prefix,
            max_size,
            max_line,
            line_len: 0,
            total: 0,
            fault: None,
            budget: None,
            starved: false,
        }
    }

    /// [`Receiver::with_prefix`] whose buffer grows only within `room` (the prefix itself,
    /// a trace header of a few hundred bytes, is not counted).
    pub fn with_budget(
        mut prefix: Vec<u8>,
        max_size: usize,
        max_line: usize,
        mut room: Reservation,
    ) -> Receiver {
        let first = max_size.min(64 * 1024);
        if room.grow(first) {
            prefix.reserve_exact(first);
        }
        let mut r = Receiver::with_prefix(Vec::new(), max_size, max_line);
        r.prefix_len = prefix.len();
        r.message = prefix;
        r.budget = Some(room);
        r
    }

    /// Makes room for `more` bytes in the buffer, within the budget if there is one.
    fn room_for(&mut self, more: usize) -> bool {
        let Some(room) = self.budget.as_mut() else {
            return true;
        };
        let need = self.message.len() + more;
        let cap = self.message.capacity();
        if need <= cap {
            return true;
        }
        // What the budget already pays for: the capacity beyond the prefix.
        let paid = room.held();
        let ceiling = self.prefix_len + self.max_size;
        let charge = |c: usize| c.saturating_sub(self.prefix_len);
        // Double as a Vec would, else a step, else exactly what is needed.
        let doubled = cap.saturating_mul(2).min(ceiling).max(need);
        let stepped = need.saturating_add(BUDGET_STEP).min(ceiling).max(need);
        for target in [doubled, stepped, need] {
            if room.grow(charge(target).saturating_sub(paid)) {
                self.message.reserve_exact(target - self.message.len());
                return true;
            }
        }
        false
    }

    /// Drops what was kept and gives its room back.
    fn drop_message(&mut self) {
        self.message = Vec::new();
        self.prefix_len = 0;
        if let Some(room) = self.budget.as_mut() {
            room.release();
        }
    }

    fn fault(&mut self, f: DataFault) {
        // The first fault is the one reported; size trumps all since nothing was kept.
        if self.fault.is_none() || f == DataFault::TooBig {
            self.fault = Some(f);
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.fault == Some(DataFault::TooBig) || self.starved {
            // Counted, not kept.
        } else if self.total > self.max_size as u64 {
            self.fault(DataFault::TooBig);
            self.drop_message();
        } else if self.room_for(bytes.len()) {
            self.message.extend_from_slice(bytes);
        } else {
            self.starved = true;
            self.drop_message();
        }
    }

    fn text_byte(&mut self, b: u8) {
        match b {
            b'\r' => self.state = State::Cr,
            b'\n' => {
                self.fault(DataFault::BareLineEnding);
                self.emit(b"\n");
                self.state = State::Text;
            }
            _ => {
                if b == 0 {
                    self.fault(DataFault::Nul);
                }
                self.line_len += 1;
                if self.line_len > self.max_line {
                    self.fault(DataFault::LineTooLong);
                }
                self.emit(&[b]);
                self.state = State::Text;
            }
        }
    }

    /// From the start of a line: takes the whole ordinary lines that follow — CRLF-ended, no
    /// other CR, no LF, no NUL, within the length limit, not starting with a dot — and keeps
    /// them in one copy. Returns the bytes taken (ending at the start of a line); whatever is
    /// not ordinary is left to the byte-by-byte reading, which has the same result.
    fn whole_lines(&mut self, rest: &[u8]) -> usize {
        let mut pos = 0;
        while pos < rest.len() && rest[pos] != b'.' {
            let Some(nl) = memchr::memchr(b'\n', &rest[pos..]) else {
                break;
            };
            let end = pos + nl;
            if nl == 0 || rest[end - 1] != b'\r' {
                break;
            }
            let content = &rest[pos..end - 1];
            if content.len() > self.max_line || memchr::memchr2(b'\r', 0, content).is_some() {
                break;
            }
            pos = end + 1;
        }
        if pos > 0 {
            self.emit(&rest[..pos]);
        }
        pos
    }

    /// Consumes bytes; returns how many were used and whether the end marker was reached.
    /// Bytes after the end marker are left for the next command.
    pub fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < input.len() {
            if self.state == State::LineStart {
                i += self.whole_lines(&input[i..]);
                if i == input.len() {
                    break;
                }
            }
            let b = input[i];
            i += 1;
            match self.state {
                State::LineStart if b == b'.' => self.state = State::Dot,
                State::LineStart | State::Text => {
                    // The run of ordinary bytes up to the next CR, LF or NUL goes in one piece
                    // (the same checks as byte by byte: line length, size).
                    let rest = &input[i - 1..];
                    let run = rest
                        .iter()
                        .position(|&c| c == b'\r' || c == b'\n' || c == 0)
                        .unwrap_or(rest.len());
                    if run == 0 {
                        self.text_byte(b);
                        continue;
                    }
                    self.line_len += run;
                    if self.line_len > self.max_line {
                        self.fault(DataFault::LineTooLong);
                    }
                    self.emit(&rest[..run]);
                    self.state = State::Text;
                    i += run - 1;
                }
                State::Cr => {
                    if b == b'\n' {
                        self.emit(b"\r\n");
                        self.line_len = 0;
                        self.state = State::LineStart;
                    } else {
                        self.fault(DataFault::BareLineEnding);
                        self.emit(b"\r");
                        self.text_byte(b);
                    }
                }
                State::Dot => {
                    if b == b'\r' {
                        self.state = State::DotCr;
                    } else {
                        // A stuffed dot: drop it, keep the rest of the line.
                        self.text_byte(b);
                    }
                }
                State::DotCr => {
                    if b == b'\n' {
                        return (i, true);
                    }
                    // ".\r" followed by anything else: a bare CR inside a line.
                    self.fault(DataFault::BareLineEnding);
                    self.emit(b"\r");
                    self.text_byte(b);
                }
            }
        }
        (input.len(), false)
    }

    /// Total message bytes seen (after unstuffing), kept or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The message, or why it is refused.
    pub fn finish(self) -> Result<Vec<u8>, DataFault> {
        self.into_parts().0
    }

    /// The message (or why it is refused) and the room it holds, to be kept until the
    /// message is stored. A permanent fault wins over a lack of memory: retrying would not
    /// help such a message.
    pub fn into_parts(mut self) -> (Result<Vec<u8>, DataFault>, Option<Reservation>) {
        let result = match (self.fault, self.starved) {
            (Some(f), _) => Err(f),
            (None, true) => Err(DataFault::NoMemory),
            (None, false) => Ok(std::mem::take(&mut self.message)),
        };
        if result.is_err() {
            self.drop_message();
        }
        (result, self.budget.take())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn run(input: &[u8]) -> (Result<Vec<u8>, DataFault>, usize, bool) {
        let mut r = Receiver::new(1 << 20, 1000);
        let (used, done) = r.feed(input);
        (r.finish(), used, done)
    }

    #[test]
    fn ends_only_at_crlf_dot_crlf_and_unstuffs() {
        let (msg, used, done) = run(b"Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n");
        assert!(done);
        assert_eq!(used, 32);
        assert_eq!(msg.unwrap(), b"Subject: x\r\n\r\n.leading dot\r\n");
        let (msg, _, done) = run(b".\r\n");
        assert!(done);
        assert_eq!(msg.unwrap(), b"");
    }

    #[test]
    fn smuggling_variants_never_end_the_message_and_are_refused() {
        let second = b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<+4930666@fax.example.com>\r\nDATA\r\nsmuggled\r\n";
        for marker in [
            &b"\n.\n"[..],
            b"\n.\r\n",
            b"\r.\r\n",
            b"\r\n.\r",
            b"\r\n\x00.\r\n",
        ] {
            let mut input = b"Subject: first\r\n\r\nbody".to_vec();
            input.extend_from_slice(marker);
            input.extend_from_slice(second);
            // Nothing before the real end terminates the message …
            let mut r = Receiver::new(1 << 20, 1000);
            let (used, done) = r.feed(&input);
            assert!(!done, "{marker:?} ended the message");
            assert_eq!(used, input.len());
            // … and the real end refuses it.
            let (used, done) = r.feed(b"\r\n.\r\n");
            assert!(done && used == 5);
            assert!(r.finish().is_err(), "{marker:?} accepted");
        }
    }

    #[test]
    fn a_prefix_does_not_count_against_the_size_and_is_kept() {
        let mut r = Receiver::with_prefix(b"Received: x\r\n".to_vec(), 10, 1000);
        let (_, done) = r.feed(b"0123456\r\n.\r\n");
        assert!(done);
        assert_eq!(r.finish().unwrap(), b"Received: x\r\n0123456\r\n");
        let mut r = Receiver::with_prefix(b"Received: x\r\n".to_vec(), 10, 1000);
        r.feed(b"0123456789abc\r\nmore\r\n.\r\n");
        assert_eq!(r.finish(), Err(DataFault::TooBig));
    }

    #[test]
    fn limits() {
        let mut r = Receiver::new(10, 1000);
        r.feed(b"0123456789abcdef\r\n");
        let (_, done) = r.feed(b".\r\n");
        assert!(done);
        assert_eq!(r.total(), 18);
        assert_eq!(r.finish(), Err(DataFault::TooBig));
        let mut r = Receiver::new(1 << 20, 8);
        r.feed(b"123456789\r\n.\r\n");
        assert_eq!(r.finish(), Err(DataFault::LineTooLong));
    }

    #[test]
    fn out_of_budget_reads_to_the_end_keeps_nothing_and_gives_the_room_back() {
        let budget = super::super::budget::MemoryBudget::new(1000);
        let mut other = budget.reservation();
        assert!(other.grow(600));
        let mut r = Receiver::with_budget(
            b"Received: x\r\n".to_vec(),
            10_000,
            1000,
            budget.reservation(),
        );
        let line = [b'a'; 98];
        for _ in 0..5 {
            r.feed(&line);
            r.feed(b"\r\n");
        }
        assert!(budget.in_use() <= 1000);
        let (used, done) = r.feed(b".\r\nQUIT\r\n");
        assert!(done && used == 3);
        assert_eq!(r.total(), 500);
        let (msg, room) = r.into_parts();
        assert_eq!(msg, Err(DataFault::NoMemory));
        assert_eq!(room.map(|r| r.held()), Some(0));
        assert_eq!(budget.in_use(), 600);
        // A permanent fault wins: retrying would not help.
        let mut r = Receiver::with_budget(Vec::new(), 10_000, 1000, budget.reservation());
        r.feed(&[b'a'; 500]);
        r.feed(b"\n\r\n.\r\n");
        assert_eq!(r.finish(), Err(DataFault::BareLineEnding));
        // With room, the message is kept whole, and the room held until it is dropped.
        drop(other);
        let mut r = Receiver::with_budget(b"R: x\r\n".to_vec(), 900, 1000, budget.reservation());
        r.feed(&[b'b'; 800]);
        r.feed(b"\r\n.\r\n");
        let (msg, room) = r.into_parts();
        assert_eq!(msg.map(|m| m.len()), Ok(808));
        assert!(room.as_ref().is_some_and(|r| r.held() >= 802));
        drop(room);
        assert_eq!(budget.in_use(), 0);
    }

    proptest! {
        #[test]
        fn split_points_do_not_matter(body in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..310) {
            let mut input = body.clone();
            input.extend_from_slice(b"\r\n.\r\n");
            let whole = { let mut r = Receiver::new(1 << 20, 1000); let (u, d) = r.feed(&input); (u, d, r.finish()) };
            let cut = cut.min(input.len());
            let mut r = Receiver::new(1 << 20, 1000);
            let (u1, d1) = r.feed(&input[..cut]);
            let (u2, d2) = if d1 { (0, true) } else { r.feed(&input[cut..]) };
            prop_assert_eq!((u1 + u2, d1 || d2, r.finish()), whole);
        }

        /// Whole lines taken in one piece read exactly as byte by byte: messages made of
        /// lines with dots, CRs, LFs and NULs in them, some over the line limit.
        #[test]
        fn whole_lines_read_as_byte_by_byte(
            lines in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(b"ab.\r\n\0".to_vec()), 0..24),
                0..12)
        ) {
            let mut input = Vec::new();
            for l in &lines {
                input.extend_from_slice(l);
                input.extend_from_slice(b"\r\n");
            }
            input.extend_from_slice(b".\r\nNEXT");
            let mut whole = Receiver::new(1 << 20, 16);
            let (used, done) = whole.feed(&input);
            let mut single = Receiver::new(1 << 20, 16);
            let (mut used1, mut done1) = (0, false);
            for b in &input {
                let (u, d) = single.feed(std::slice::from_ref(b));
                used1 += u;
                if d {
                    done1 = true;
                    break;
                }
            }
            prop_assert_eq!((used, done, whole.total()), (used1, done1, single.total()));
            prop_assert_eq!(whole.finish(), single.finish());
        }

        #[test]
        fn accepted_messages_have_only_crlf_line_endings(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut r = Receiver::new(1 << 20, 1000);
            let (_, done) = r.feed(&body);
            if !done
                && let Ok(m) = r.finish() {
                    for (i, &b) in m.iter().enumerate() {
                        if b == b'\n' { prop_assert!(i > 0 && m[i - 1] == b'\r'); }
                        if b == b'\r' { prop_assert!(m.get(i + 1) == Some(&b'\n')); }
                    }
                }
        }
    }
}
