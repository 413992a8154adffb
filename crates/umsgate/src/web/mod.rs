pub mod auth;
pub mod portal;
