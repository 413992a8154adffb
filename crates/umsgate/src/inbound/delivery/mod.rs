//! Delivery of `smtp-out/` to the mail server (placeholder).
