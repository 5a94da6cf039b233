//! Just enough DER (X.690) to turn an ECDSA signature from a platform
//! keystore (`SEQUENCE { INTEGER r, INTEGER s }`) into the raw R‖S form JOSE
//! uses (RFC 7518 §3.4), and to read the private scalar out of PKCS#8.

/// Why a DER value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed DER: {0}")]
pub struct DerError(pub &'static str);

/// Reads one TLV with the expected tag; returns (contents, rest).
pub(crate) fn read_tlv(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), DerError> {
    let (&t, rest) = input.split_first().ok_or(DerError("truncated"))?;
    if t != tag {
        return Err(DerError("unexpected tag"));
    }
    let (&l0, rest) = rest.split_first().ok_or(DerError("truncated length"))?;
    let (len, rest) = if l0 < 0x80 {
        (l0 as usize, rest)
    } else {
        let n = (l0 & 0x7f) as usize;
        if n == 0 || n > 2 || rest.len() < n {
            return Err(DerError("unsupported length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        if len < 0x80 || (n == 2 && len < 0x100) {
            return Err(DerError("non-minimal length"));
        }
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(DerError("truncated contents"));
    }
    Ok(rest.split_at(len))
}

/// Converts a DER ECDSA signature to fixed-width R‖S with `width` bytes per
/// integer (32 for P-256).
pub fn ecdsa_der_to_raw(der: &[u8], width: usize) -> Result<Vec<u8>, DerError> {
    let (seq, rest) = read_tlv(der, 0x30)?;
    if !rest.is_empty() {
        return Err(DerError("trailing bytes"));
    }
    let (r, seq) = read_tlv(seq, 0x02)?;
    let (s, seq) = read_tlv(seq, 0x02)?;
    if !seq.is_empty() {
        return Err(DerError("trailing bytes in sequence"));
    }
    let mut out = vec![0u8; 2 * width];
    for (i, int) in [r, s].into_iter().enumerate() {
        if int.is_empty() || int[0] & 0x80 != 0 {
            return Err(DerError("negative or empty integer"));
        }
        let trimmed = match int {
            [0, rest @ ..] if !rest.is_empty() && rest[0] & 0x80 == 0 => {
                return Err(DerError("non-minimal integer"))
            }
            [0, rest @ ..] => rest,
            all => all,
        };
        if trimmed.len() > width {
            return Err(DerError("integer too large"));
        }
        let start = i * width + (width - trimmed.len());
        out[start..start + trimmed.len()].copy_from_slice(trimmed);
    }
    Ok(out)
}

/// Finds the first OCTET STRING of exactly `len` bytes that directly follows
/// a small INTEGER inside nested SEQUENCE / OCTET STRING wrappers: in PKCS#8
/// for P-256 (RFC 5915 ECPrivateKey) and Ed25519 (RFC 8410 CurvePrivateKey)
/// that is the private scalar or seed.
pub(crate) fn pkcs8_private_octets(pkcs8: &[u8], len: usize) -> Result<Vec<u8>, DerError> {
    // PrivateKeyInfo ::= SEQUENCE { version, algorithm, privateKey OCTET STRING, ... }
    let (info, _) = read_tlv(pkcs8, 0x30)?;
    let (_version, info) = read_tlv(info, 0x02)?;
    let (_alg, info) = read_tlv(info, 0x30)?;
    let (private, _) = read_tlv(info, 0x04)?;
    // Ed25519: CurvePrivateKey ::= OCTET STRING (the 32-byte seed).
    if let Ok((seed, rest)) = read_tlv(private, 0x04) {
        if rest.is_empty() && seed.len() == len {
            return Ok(seed.to_vec());
        }
    }
    // P-256: ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, ... }
    let (ec, _) = read_tlv(private, 0x30)?;
    let (_v, ec) = read_tlv(ec, 0x02)?;
    let (d, _) = read_tlv(ec, 0x04)?;
    if d.len() != len {
        return Err(DerError("private key has the wrong length"));
    }
    Ok(d.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_der_with_and_without_leading_zeroes() {
        let mut der = vec![0x30, 0x45, 0x02, 0x21, 0x00];
        der.extend([0x80; 32]);
        der.extend([0x02, 0x20]);
        der.extend([0x11; 32]);
        let raw = ecdsa_der_to_raw(&der, 32).unwrap();
        assert_eq!(&raw[..32], &[0x80; 32]);
        assert_eq!(&raw[32..], &[0x11; 32]);

        // Short integers are left-padded.
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07];
        let raw = ecdsa_der_to_raw(&der, 32).unwrap();
        assert_eq!(raw[31], 5);
        assert_eq!(raw[63], 7);
        assert!(raw[..31].iter().all(|b| *b == 0));
    }

    #[test]
    fn rejects_bad_der() {
        assert!(ecdsa_der_to_raw(&[], 32).is_err());
        assert!(
            ecdsa_der_to_raw(&[0x30, 0x06, 0x02, 0x01, 0x05], 32).is_err(),
            "truncated"
        );
        assert!(ecdsa_der_to_raw(&[0x31, 0x00], 32).is_err(), "wrong tag");
        assert!(
            ecdsa_der_to_raw(&[0x30, 0x06, 0x02, 0x01, 0x85, 0x02, 0x01, 0x07], 32).is_err(),
            "negative"
        );
        assert!(
            ecdsa_der_to_raw(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x07], 32).is_err(),
            "non-minimal"
        );
        let mut big = vec![0x30, 0x26, 0x02, 0x21, 0x01];
        big.extend([0u8; 32]);
        big.extend([0x02, 0x01, 0x01]);
        assert!(ecdsa_der_to_raw(&big, 32).is_err(), "too large");
        assert!(
            ecdsa_der_to_raw(&[0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07, 0x00], 32).is_err(),
            "trailing"
        );
    }
}
