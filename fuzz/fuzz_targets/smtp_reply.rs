//! The mail server's replies as umsgate's SMTP client reads them: any bytes give a reply or
//! an error, never a panic; a reply holds a valid code and stays within the line limits, and
//! its EHLO capabilities can be read.
#![no_main]

use std::future::Future;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use umsgate::delivery::smtp::reply::{Capabilities, MAX_LINE, MAX_LINES, read_reply};

fuzz_target!(|data: &[u8]| {
    let mut reader = tokio::io::BufReader::new(data);
    let mut cx = Context::from_waker(Waker::noop());
    // A slice never makes the reader wait, so one poll finishes.
    loop {
        let fut = std::pin::pin!(read_reply(&mut reader));
        let Poll::Ready(result) = fut.poll(&mut cx) else {
            panic!("reading from a slice never waits");
        };
        let Ok(reply) = result else {
            return;
        };
        assert!((200..600).contains(&reply.code));
        assert!(!reply.lines.is_empty() && reply.lines.len() <= MAX_LINES);
        assert!(reply.lines.iter().all(|l| l.len() <= MAX_LINE * 3));
        let _ = Capabilities::from_ehlo(&reply);
        let _ = reply.one_line();
    }
});
