//! Transparency log verification (RFC 9162 §2.1): Merkle tree hashing with
//! domain separation (leaf `0x00`, node `0x01`), inclusion and consistency
//! proofs — generation for the server, verification for devices.

use ring::digest::{Context, SHA256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Why a proof or input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogError {
    /// Index or sizes out of range.
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    /// The proof has the wrong number of hashes.
    #[error("proof has the wrong length")]
    WrongProofLength,
    /// The proof does not lead to the given root(s).
    #[error("proof does not match the root")]
    RootMismatch,
}

/// SHA-256 of an empty string: the root of the empty tree.
pub fn empty_root() -> Hash {
    digest(&[b""])
}

fn digest(parts: &[&[u8]]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The leaf hash of `data`: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    digest(&[&[0x00], data])
}

/// An interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    digest(&[&[0x01], left, right])
}

/// Largest power of two strictly less than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree hash of leaf hashes (MTH, §2.1.1).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The inclusion proof of leaf `index` in the tree of `leaves` (§2.1.3.1).
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Result<Vec<Hash>, TlogError> {
    if index >= leaves.len() {
        return Err(TlogError::Invalid("index outside the tree"));
    }
    fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
        if d.len() <= 1 {
            return;
        }
        let k = split(d.len());
        if m < k {
            path(m, &d[..k], out);
            out.push(root(&d[k..]));
        } else {
            path(m - k, &d[k..], out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    path(index, leaves, &mut out);
    Ok(out)
}

/// The consistency proof between the first `size1` leaves and all of
/// `leaves` (§2.1.4.1).
pub fn consistency_proof(leaves: &[Hash], size1: usize) -> Result<Vec<Hash>, TlogError> {
    if size1 > leaves.len() {
        return Err(TlogError::Invalid("first size larger than the tree"));
    }
    fn sub(m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
        if m == d.len() {
            if !complete {
                out.push(root(d));
            }
            return;
        }
        let k = split(d.len());
        if m <= k {
            sub(m, &d[..k], complete, out);
            out.push(root(&d[k..]));
        } else {
            sub(m - k, &d[k..], false, out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    if size1 > 0 && size1 < leaves.len() {
        sub(size1, leaves, true, &mut out);
    }
    Ok(out)
}

/// Verifies that `leaf` is at `index` in the tree of `size` with `root` (§2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TlogError> {
    if index >= size {
        return Err(TlogError::Invalid("index outside the tree"));
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(TlogError::WrongProofLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(TlogError::WrongProofLength);
    }
    if &r != root {
        return Err(TlogError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `size1` with `root1` is a prefix of the tree of
/// `size2` with `root2` (§2.1.4.2).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), TlogError> {
    if size1 > size2 {
        return Err(TlogError::Invalid("first size larger than second"));
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(TlogError::WrongProofLength);
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(TlogError::RootMismatch)
        };
    }
    if size1 == 0 {
        // The empty tree is a prefix of every tree.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(TlogError::WrongProofLength)
        };
    }
    if proof.is_empty() {
        return Err(TlogError::WrongProofLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return Err(TlogError::WrongProofLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(TlogError::WrongProofLength);
    }
    if &fr != root1 || &sr != root2 {
        return Err(TlogError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The eight leaves of the RFC 6962 reference test vectors.
    fn leaves() -> Vec<Hash> {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        inputs.iter().map(|d| leaf_hash(d)).collect()
    }

    #[test]
    fn reference_roots() {
        let l = leaves();
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&root(&l[..1])),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            hex(&root(&l[..2])),
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
        );
        assert_eq!(
            hex(&root(&l[..3])),
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"
        );
        assert_eq!(
            hex(&root(&l[..8])),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );
    }

    #[test]
    fn every_inclusion_and_consistency_proof_verifies() {
        let l: Vec<Hash> = (0..40u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 1..=l.len() {
            let r = root(&l[..n]);
            for i in 0..n {
                let p = inclusion_proof(&l[..n], i).unwrap();
                verify_inclusion(i as u64, n as u64, &l[i], &p, &r).unwrap();
                assert!(
                    verify_inclusion(i as u64, n as u64, &l[(i + 1) % n], &p, &r).is_err()
                        || n == 1
                );
            }
            for m in 0..=n {
                let p = consistency_proof(&l[..n], m).unwrap();
                let r1 = root(&l[..m]);
                verify_consistency(m as u64, n as u64, &r1, &r, &p).unwrap();
            }
        }
    }

    #[test]
    fn wrong_proofs_are_refused() {
        let l = leaves();
        let r = root(&l);
        let p = inclusion_proof(&l, 5).unwrap();
        assert_eq!(
            verify_inclusion(5, 8, &l[5], &p[..2], &r),
            Err(TlogError::WrongProofLength)
        );
        let mut long = p.clone();
        long.push(r);
        assert_eq!(
            verify_inclusion(5, 8, &l[5], &long, &r),
            Err(TlogError::WrongProofLength)
        );
        let mut bad = p.clone();
        bad[1][0] ^= 1;
        assert_eq!(
            verify_inclusion(5, 8, &l[5], &bad, &r),
            Err(TlogError::RootMismatch)
        );
        assert!(verify_inclusion(8, 8, &l[5], &p, &r).is_err());

        let c = consistency_proof(&l, 3).unwrap();
        let r3 = root(&l[..3]);
        verify_consistency(3, 8, &r3, &r, &c).unwrap();
        // A forked history: a different 3-leaf tree.
        let forged = root(&[l[0], l[1], leaf_hash(b"rewritten")]);
        assert_eq!(
            verify_consistency(3, 8, &forged, &r, &c),
            Err(TlogError::RootMismatch)
        );
        assert!(verify_consistency(3, 8, &r3, &r, &c[1..]).is_err());
        assert!(verify_consistency(8, 3, &r, &r3, &c).is_err());
        assert!(verify_consistency(8, 8, &r, &r, &c).is_err());
        verify_consistency(8, 8, &r, &r, &[]).unwrap();
        verify_consistency(0, 8, &empty_root(), &r, &[]).unwrap();
    }
}
