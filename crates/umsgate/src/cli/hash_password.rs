//! `umsgate hash-password`: an argon2id hash for `auth.users`, of a password read on stdin.
//!
//! Contract: the password is standard input without its final line end; an empty one is
//! refused ([`Exit::Config`]). Each hash gets a fresh 16-byte salt from the operating
//! system's random source; without one nothing is printed ([`Exit::Runtime`]), never a
//! hash with a predictable salt. The password never appears in the output or in errors.
//!
//! Implementation summary: argon2's defaults (argon2id, v19, m=19456, t=2, p=1), the salt
//! from `OsRng` of the `rand_core` that `password-hash` uses (which reads `getrandom`).

use std::io::Read;

use argon2::PasswordHasher;
use argon2::password_hash::rand_core::{CryptoRngCore, OsRng};
use argon2::password_hash::{self, SaltString};

use super::Exit;

/// Bytes of salt: the length `password-hash` recommends.
const SALT_LEN: usize = 16;

/// Why no hash was printed.
#[derive(Debug)]
enum HashError {
    Read(std::io::Error),
    Empty,
    Random(password_hash::rand_core::Error),
    Hash(password_hash::Error),
}

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashError::Read(e) => write!(f, "cannot read the password: {e}"),
            HashError::Empty => f.write_str("an empty password is not allowed"),
            HashError::Random(e) => write!(f, "no randomness for the salt: {e}"),
            HashError::Hash(e) => write!(f, "cannot hash: {e}"),
        }
    }
}

impl std::error::Error for HashError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HashError::Read(e) => Some(e),
            HashError::Empty => None,
            HashError::Random(e) => Some(e),
            HashError::Hash(e) => Some(e),
        }
    }
}

impl HashError {
    fn exit(&self) -> Exit {
        match self {
            HashError::Empty => Exit::Config,
            HashError::Read(_) | HashError::Random(_) | HashError::Hash(_) => Exit::Runtime,
        }
    }
}

pub(crate) fn hash_password() -> Exit {
    let mut input = String::new();
    let hashed = std::io::stdin()
        .read_to_string(&mut input)
        .map_err(HashError::Read)
        .and_then(|_| hash(&input, &mut OsRng));
    match hashed {
        Ok(h) => {
            println!("{h}");
            Exit::Success
        }
        Err(e) => {
            eprintln!("{e}");
            e.exit()
        }
    }
}

/// The PHC string of `input` (without its final line end), salted from `rng`.
fn hash(input: &str, rng: &mut impl CryptoRngCore) -> Result<String, HashError> {
    let password = input.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(HashError::Empty);
    }
    let mut salt = [0u8; SALT_LEN];
    rng.try_fill_bytes(&mut salt).map_err(HashError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(HashError::Hash)?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(HashError::Hash)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use argon2::PasswordVerifier;
    use argon2::password_hash::rand_core::{CryptoRng, RngCore};

    use super::*;

    /// A random source that repeats one byte, or fails.
    struct Fixed(Option<u8>);

    impl RngCore for Fixed {
        fn next_u32(&mut self) -> u32 {
            u32::from(self.0.unwrap_or(0))
        }
        fn next_u64(&mut self) -> u64 {
            u64::from(self.0.unwrap_or(0))
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(self.0.unwrap_or(0));
        }
        fn try_fill_bytes(
            &mut self,
            dest: &mut [u8],
        ) -> Result<(), password_hash::rand_core::Error> {
            match self.0 {
                Some(b) => {
                    dest.fill(b);
                    Ok(())
                }
                None => Err(password_hash::rand_core::Error::new(std::io::Error::other(
                    "entropy source gone",
                ))),
            }
        }
    }

    impl CryptoRng for Fixed {}

    #[test]
    fn the_hash_verifies_and_carries_the_salt_it_was_given() {
        let h = hash("s3cret\r\n", &mut Fixed(Some(7))).unwrap();
        let parsed = argon2::PasswordHash::new(&h).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let salt = SaltString::encode_b64(&[7u8; SALT_LEN]).unwrap();
        assert_eq!(parsed.salt.unwrap().as_str(), salt.as_str());
        let argon = argon2::Argon2::default();
        assert!(argon.verify_password(b"s3cret", &parsed).is_ok());
        assert!(argon.verify_password(b"s3cret\r\n", &parsed).is_err());
        assert!(!h.contains("s3cret"));
    }

    #[test]
    fn salts_from_the_system_differ() {
        let a = hash("pw", &mut OsRng).unwrap();
        let b = hash("pw", &mut OsRng).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn no_randomness_is_a_runtime_failure_and_no_hash() {
        let e = hash("pw", &mut Fixed(None)).unwrap_err();
        assert!(matches!(e, HashError::Random(_)), "{e:?}");
        assert_eq!(e.exit(), Exit::Runtime);
        assert!(
            e.to_string().starts_with("no randomness for the salt: "),
            "{e}"
        );
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn an_empty_password_is_a_config_error() {
        for input in ["", "\n", "\r\n", "\n\n"] {
            let e = hash(input, &mut Fixed(Some(1))).unwrap_err();
            assert_eq!(e.exit(), Exit::Config, "{input:?}");
        }
    }
}
