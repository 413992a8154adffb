//! `umsgate user show` / `user set`: effective settings of a user, edits of the UMS attribute.
