//! The shared token, proved and never sent: each side answers the other's random
//! nonce with an HMAC-SHA256 keyed by the token, so a listener on the wire learns
//! nothing it could replay, and an agent never runs load for a controller that does
//! not know the token (nor a controller trust an agent that does not).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The fewest bytes a token may have: shorter ones are guessable.
pub const MIN_TOKEN_BYTES: usize = 16;

/// A token checked for length; its `Debug` hides it.
#[derive(Clone)]
pub struct Token(Vec<u8>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the token has {0} bytes; at least {MIN_TOKEN_BYTES} are needed (e.g. `openssl rand -hex 16`)"
)]
pub struct ShortToken(usize);

impl Token {
    pub fn new(text: &str) -> Result<Token, ShortToken> {
        let bytes = text.trim().as_bytes().to_vec();
        if bytes.len() < MIN_TOKEN_BYTES {
            return Err(ShortToken(bytes.len()));
        }
        Ok(Token(bytes))
    }

    /// The proof that `role` knows the token, answering `theirs` after sending `ours`.
    pub fn proof(&self, role: &str, theirs: &str, ours: &str) -> String {
        hex(&self.mac(role, theirs, ours).finalize().into_bytes())
    }

    /// Whether `proof` is `role`'s answer to `theirs` after `ours`; constant time.
    pub fn verify(&self, proof: &str, role: &str, theirs: &str, ours: &str) -> bool {
        match unhex(proof) {
            Some(bytes) => self.mac(role, theirs, ours).verify_slice(&bytes).is_ok(),
            None => false,
        }
    }

    fn mac(&self, role: &str, theirs: &str, ours: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in [role, theirs, ours] {
            // Length-prefixed, so no two different triples give the same input.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }
}

/// A fresh random nonce, as hex.
pub fn nonce() -> String {
    hex(&rand::random::<[u8; 16]>())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_holds_only_for_its_token_role_and_nonces() {
        let token = Token::new("0123456789abcdef-secret").unwrap();
        let other = Token::new("0123456789abcdef-SECRET").unwrap();
        let p = token.proof("agent", "n1", "n2");
        assert!(token.verify(&p, "agent", "n1", "n2"));
        assert!(!other.verify(&p, "agent", "n1", "n2"));
        assert!(!token.verify(&p, "controller", "n1", "n2"));
        assert!(!token.verify(&p, "agent", "n2", "n1"));
        assert!(!token.verify("zz", "agent", "n1", "n2"));
        assert_ne!(nonce(), nonce());
    }

    #[test]
    fn short_tokens_are_refused_and_never_printed() {
        assert!(Token::new("short").is_err());
        let t = Token::new("a-long-enough-token").unwrap();
        assert!(!format!("{t:?}").contains("long"));
    }
}
