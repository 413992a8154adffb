//! Reports to senders (placeholder; filled by the report work).
