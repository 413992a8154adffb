//! MIME → message content (placeholder; filled by the job-building work).
