//! Buffered connection I/O for the session: bounded command lines, pipelined replies,
//! timeouts on every read.
//!
//! Contract: replies are collected and written only when the session is about to wait for
//! more input (RFC 2920 PIPELINING: a client's whole group of commands is answered in one
//! write). A command line longer than the limit is consumed to its end and reported as such,
//! never buffered without bound. [`Conn::discard_input`] drops everything buffered — used after
//! STARTTLS, so that nothing sent before the handshake is executed after it.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::reply::Outcome;

/// How a read ended without a line.
#[derive(Debug)]
pub(super) enum ReadError {
    Eof,
    Timeout,
    TooLong,
    Io,
}

pub(super) struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
    out: Vec<u8>,
}

/// Room made in the buffer before each read: a 100 KiB message arrives in two or three
/// reads, each straight into the buffer.
const READ_CHUNK: usize = 64 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(super) fn new(stream: S) -> Conn<S> {
        Conn {
            stream,
            buf: Vec::with_capacity(READ_CHUNK),
            out: Vec::with_capacity(512),
        }
    }

    /// Queues a reply.
    pub(super) fn reply(&mut self, o: &Outcome) {
        o.reply().write_to(&mut self.out);
    }

    /// Queues a raw multi-line reply (EHLO).
    pub(super) fn reply_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    pub(super) async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
        }
        self.stream.flush().await
    }

    /// Reads more bytes into the buffer, flushing pending replies first. Cancel-safe: bytes
    /// reach the buffer only after a read completed.
    async fn fill(&mut self, timeout: Duration) -> Result<(), ReadError> {
        self.flush().await.map_err(|_| ReadError::Io)?;
        self.buf.reserve(READ_CHUNK);
        // `read_buf` appends to the buffer's spare room (never to be read twice) and is
        // cancel-safe: nothing is added unless the read completed.
        match tokio::time::timeout(timeout, self.stream.read_buf(&mut self.buf)).await {
            Err(_) => Err(ReadError::Timeout),
            Ok(Err(_)) => Err(ReadError::Io),
            Ok(Ok(0)) => Err(ReadError::Eof),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// The next line including its LF, at most `max` bytes.
    pub(super) async fn read_line(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, ReadError> {
        let mut too_long = false;
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                if too_long || line.len() > max {
                    return Err(ReadError::TooLong);
                }
                return Ok(line);
            }
            if self.buf.len() > max {
                too_long = true;
                self.buf.clear();
            }
            self.fill(timeout).await?;
        }
    }

    /// Gives buffered input to `f`, which returns how much it used and whether it is done;
    /// reads more until it is.
    pub(super) async fn feed_until<F>(
        &mut self,
        timeout: Duration,
        mut f: F,
    ) -> Result<(), ReadError>
    where
        F: FnMut(&[u8]) -> (usize, bool),
    {
        loop {
            if !self.buf.is_empty() {
                let (used, done) = f(&self.buf);
                self.buf.drain(..used.min(self.buf.len()));
                if done {
                    return Ok(());
                }
            }
            self.fill(timeout).await?;
        }
    }

    /// Drops all buffered input.
    pub(super) fn discard_input(&mut self) -> usize {
        let n = self.buf.len();
        self.buf.clear();
        n
    }

    pub(super) fn into_inner(self) -> S {
        self.stream
    }
}
