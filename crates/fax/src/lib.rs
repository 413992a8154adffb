//! Fax documents (placeholder).
#![forbid(unsafe_code)]
