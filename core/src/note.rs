//! C2SP signed notes (Ed25519) and tlog checkpoints.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then signature
//! lines `— <name> <base64(key hash ‖ signature)>`. The key hash is the first
//! four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key). Verifier keys are
//! written `<name>+<key hash, 8 hex>+<base64(0x01 ‖ public key)>`.
//! A checkpoint's text is `<origin>\n<tree size>\n<base64 root hash>\n`.

use base64::{engine::general_purpose::STANDARD, Engine};
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

use crate::tlog::Hash;

/// Largest note accepted.
pub const MAX_NOTE_LEN: usize = 1 << 20;
const ED25519_ALG: u8 = 0x01;

/// Why a note or checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note or key text is not in the required form.
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// No signature by the verifier's key verifies.
    #[error("no valid signature by {0}")]
    Unverified(String),
    /// The checkpoint is for another log.
    #[error("checkpoint is for another log")]
    WrongOrigin,
}

fn key_hash(name: &str, public: &[u8]) -> [u8; 4] {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        &[name.as_bytes(), b"\n", &[ED25519_ALG], public].concat(),
    );
    let mut out = [0u8; 4];
    out.copy_from_slice(&d.as_ref()[..4]);
    out
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(|c| c.is_whitespace())
}

/// An Ed25519 note verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    /// Key name (for a log, its origin).
    pub name: String,
    hash: [u8; 4],
    public: [u8; 32],
}

impl NoteVerifier {
    /// Parses `<name>+<hash>+<base64(0x01 ‖ key)>`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::Malformed("verifier key must be name+hash+key"));
        };
        if !valid_name(name) || hash.len() != 8 {
            return Err(NoteError::Malformed("verifier key name or hash"));
        }
        let hash = u32::from_str_radix(hash, 16)
            .map_err(|_| NoteError::Malformed("verifier key hash"))?
            .to_be_bytes();
        let key = STANDARD
            .decode(key)
            .map_err(|_| NoteError::Malformed("verifier key base64"))?;
        if key.len() != 33 || key[0] != ED25519_ALG {
            return Err(NoteError::Malformed(
                "only Ed25519 verifier keys are supported",
            ));
        }
        let mut public = [0u8; 32];
        public.copy_from_slice(&key[1..]);
        if key_hash(name, &public) != hash {
            return Err(NoteError::Malformed(
                "verifier key hash does not match the key",
            ));
        }
        Ok(NoteVerifier {
            name: name.into(),
            hash,
            public,
        })
    }

    /// The verifier key text.
    pub fn encode(&self) -> String {
        format!(
            "{}+{}+{}",
            self.name,
            hex8(&self.hash),
            STANDARD.encode([&[ED25519_ALG], &self.public[..]].concat())
        )
    }

    /// Verifies `note` and returns its text (everything before the blank line).
    pub fn verify<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        if note.len() > MAX_NOTE_LEN {
            return Err(NoteError::Malformed("note too large"));
        }
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&note[..=split], &note[split + 2..]);
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(NoteError::Malformed(
                "signature block must end with a newline",
            ));
        }
        for line in sigs[..sigs.len() - 1].split('\n') {
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or(NoteError::Malformed("signature line"))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or(NoteError::Malformed("signature line"))?;
            let blob = STANDARD
                .decode(b64)
                .map_err(|_| NoteError::Malformed("signature base64"))?;
            if blob.len() < 5 {
                return Err(NoteError::Malformed("signature too short"));
            }
            if name == self.name && blob[..4] == self.hash {
                if UnparsedPublicKey::new(&ED25519, &self.public)
                    .verify(text.as_bytes(), &blob[4..])
                    .is_ok()
                {
                    return Ok(text);
                }
                return Err(NoteError::Unverified(self.name.clone()));
            }
        }
        Err(NoteError::Unverified(self.name.clone()))
    }
}

fn hex8(h: &[u8; 4]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// An Ed25519 note signer (a log's key).
pub struct NoteSigner {
    name: String,
    pair: Ed25519KeyPair,
    seed: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A new signer named `name` (for a log: its origin).
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        // An Ed25519 private key is any 32 random bytes (RFC 8032 §5.1.5).
        let seed = zeroize::Zeroizing::new(crate::b64::random_bytes::<32>());
        Self::from_seed(name, seed.as_ref())
    }

    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8]) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::Malformed("key name"));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| NoteError::Malformed("Ed25519 seed"))?;
        Ok(NoteSigner {
            name: name.into(),
            pair,
            seed: zeroize::Zeroizing::new(seed.to_vec()),
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`.
    pub fn parse(skey: &str) -> Result<Self, NoteError> {
        let rest = skey
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::Malformed("signer key prefix"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(_hash), Some(key)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::Malformed("signer key"));
        };
        let key = zeroize::Zeroizing::new(
            STANDARD
                .decode(key)
                .map_err(|_| NoteError::Malformed("signer key base64"))?,
        );
        if key.len() != 33 || key[0] != ED25519_ALG {
            return Err(NoteError::Malformed(
                "only Ed25519 signer keys are supported",
            ));
        }
        let s = Self::from_seed(name, &key[1..])?;
        if Self::parse_check(&s, rest) {
            Ok(s)
        } else {
            Err(NoteError::Malformed("signer key hash does not match"))
        }
    }

    fn parse_check(s: &NoteSigner, rest: &str) -> bool {
        rest.split('+').nth(1) == Some(hex8(&s.verifier().hash).as_str())
    }

    /// The private key text (keep it secret).
    pub fn encode(&self) -> zeroize::Zeroizing<String> {
        let v = self.verifier();
        zeroize::Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex8(&v.hash),
            STANDARD.encode([&[ED25519_ALG], &self.seed[..]].concat())
        ))
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        let mut public = [0u8; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        NoteVerifier {
            name: self.name.clone(),
            hash: key_hash(&self.name, &public),
            public,
        }
    }

    /// Signs `text` (which must end with a newline) into a note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        if !text.ends_with('\n') || text.contains("\n\n") {
            return Err(NoteError::Malformed(
                "note text must end with one newline and have no blank line",
            ));
        }
        let sig = self.pair.sign(text.as_bytes());
        let blob = [&self.verifier().hash[..], sig.as_ref()].concat();
        Ok(format!(
            "{text}\n\u{2014} {} {}\n",
            self.name,
            STANDARD.encode(blob)
        ))
    }
}

/// A tlog checkpoint: origin, tree size, root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Signs the checkpoint.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, NoteError> {
        signer.sign(&self.text())
    }

    /// Verifies a signed checkpoint with the log's verifier key; the origin
    /// must be the verifier key's name.
    pub fn verify(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, NoteError> {
        let text = verifier.verify(note)?;
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::Malformed("checkpoint origin"))?;
        let size = lines
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(NoteError::Malformed("checkpoint size"))?;
        let root = lines
            .next()
            .and_then(|r| STANDARD.decode(r).ok())
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
            .ok_or(NoteError::Malformed("checkpoint root hash"))?;
        if origin != verifier.name {
            return Err(NoteError::WrongOrigin);
        }
        Ok(Checkpoint {
            origin: origin.into(),
            size,
            root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_key_text_round_trip() {
        let s = NoteSigner::generate("log.satchel.example").unwrap();
        let v = NoteVerifier::parse(&s.verifier().encode()).unwrap();
        let note = s.sign("hello\nworld\n").unwrap();
        assert_eq!(v.verify(&note).unwrap(), "hello\nworld\n");
        assert_eq!(NoteSigner::parse(&s.encode()).unwrap().verifier(), v);

        let cp = Checkpoint {
            origin: "log.satchel.example".into(),
            size: 42,
            root: [7u8; 32],
        };
        let signed = cp.sign(&s).unwrap();
        assert_eq!(Checkpoint::verify(&signed, &v).unwrap(), cp);
    }

    #[test]
    fn go_sumdb_note_example_verifies() {
        // The example from golang.org/x/mod/sumdb/note's documentation.
        let v = NoteVerifier::parse(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        )
        .unwrap();
        let note = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        assert!(v.verify(note).unwrap().starts_with("If you think"));
    }

    #[test]
    fn refusals() {
        let s = NoteSigner::generate("log").unwrap();
        let v = s.verifier();
        let note = s.sign("text\n").unwrap();
        assert!(matches!(
            v.verify(&note.replace("text", "TEXT")),
            Err(NoteError::Unverified(_))
        ));
        let other = NoteSigner::generate("log").unwrap().verifier();
        assert!(matches!(other.verify(&note), Err(NoteError::Unverified(_))));
        assert!(v.verify("no signatures\n").is_err());
        assert!(v.verify("text\n\n\u{2014} log !!!\n").is_err());
        assert!(v.verify(&note[..note.len() - 1]).is_err(), "truncated");
        assert!(NoteVerifier::parse("a+b").is_err());
        assert!(
            NoteVerifier::parse("log+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                .is_err()
        );
        assert!(s.sign("no newline").is_err());
        let cp = Checkpoint {
            origin: "other".into(),
            size: 1,
            root: [0; 32],
        };
        assert_eq!(
            Checkpoint::verify(&cp.sign(&s).unwrap(), &v),
            Err(NoteError::WrongOrigin)
        );
        assert!(matches!(
            Checkpoint::verify(&s.sign("log\nx\nAAAA\n").unwrap(), &v),
            Err(NoteError::Malformed(_))
        ));
    }
}
