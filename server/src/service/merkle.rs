//! The log's Merkle tree in memory: every perfect subtree hash is kept, so
//! roots and proofs for any size cost O(log² n) hashes and an append O(1)
//! amortised (RFC 9162 §2.1).

use satchel_core::tlog::{empty_root, node_hash, Hash, TlogError};

/// An append-only Merkle tree.
#[derive(Debug, Default, Clone)]
pub struct MerkleTree {
    /// `levels[h][i]` = hash of the perfect subtree of leaves `[i·2^h, (i+1)·2^h)`.
    levels: Vec<Vec<Hash>>,
}

fn split(n: u64) -> u64 {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

impl MerkleTree {
    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut h = 0;
        while self.levels[h].len() % 2 == 0 {
            let n = self.levels[h].len();
            let parent = node_hash(&self.levels[h][n - 2], &self.levels[h][n - 1]);
            if self.levels.len() == h + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[h + 1].push(parent);
            h += 1;
        }
    }

    /// Drops leaves beyond `size` (used to undo a failed integration).
    pub fn truncate(&mut self, size: u64) {
        let mut tree = MerkleTree::default();
        for l in self
            .levels
            .first()
            .map(|l| &l[..size as usize])
            .unwrap_or(&[])
        {
            tree.push(*l);
        }
        *self = tree;
    }

    /// MTH of leaves `[start, end)`; `start` is aligned as RFC 9162's
    /// recursion guarantees.
    fn range_root(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start % n == 0 {
            let h = n.trailing_zeros() as usize;
            return self.levels[h][(start >> h) as usize];
        }
        let k = split(n);
        node_hash(
            &self.range_root(start, start + k),
            &self.range_root(start + k, end),
        )
    }

    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, TlogError> {
        if size > self.size() {
            return Err(TlogError::Invalid("size beyond the tree"));
        }
        Ok(self.range_root(0, size))
    }

    /// Inclusion proof of leaf `index` in the tree of `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TlogError> {
        if size > self.size() || index >= size {
            return Err(TlogError::Invalid("index or size beyond the tree"));
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, start + k, out);
            out.push(self.range_root(start + k, end));
        } else {
            self.path(m - k, start + k, end, out);
            out.push(self.range_root(start, start + k));
        }
    }

    /// Consistency proof between sizes `size1` ≤ `size2`.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, TlogError> {
        if size2 > self.size() || size1 > size2 {
            return Err(TlogError::Invalid("sizes beyond the tree"));
        }
        let mut out = Vec::new();
        if size1 > 0 && size1 < size2 {
            self.subproof(size1, 0, size2, true, &mut out);
        }
        Ok(out)
    }

    fn subproof(&self, m: u64, start: u64, end: u64, complete: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !complete {
                out.push(self.range_root(start, end));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, start + k, complete, out);
            out.push(self.range_root(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.range_root(start, start + k));
        }
    }
}

#[cfg(test)]
mod tests {
    use satchel_core::tlog;

    use super::*;

    #[test]
    fn agrees_with_the_reference_functions() {
        let leaves: Vec<Hash> = (0..70u32)
            .map(|i| tlog::leaf_hash(&i.to_le_bytes()))
            .collect();
        let mut t = MerkleTree::default();
        for l in &leaves {
            t.push(*l);
        }
        for n in 0..=leaves.len() {
            assert_eq!(
                t.root(n as u64).unwrap(),
                tlog::root(&leaves[..n]),
                "root {n}"
            );
            for i in (0..n).step_by(7) {
                assert_eq!(
                    t.inclusion_proof(i as u64, n as u64).unwrap(),
                    tlog::inclusion_proof(&leaves[..n], i).unwrap()
                );
            }
            for m in (0..=n).step_by(5) {
                assert_eq!(
                    t.consistency_proof(m as u64, n as u64).unwrap(),
                    tlog::consistency_proof(&leaves[..n], m).unwrap()
                );
            }
        }
        t.truncate(33);
        assert_eq!(t.root(33).unwrap(), tlog::root(&leaves[..33]));
        assert!(t.root(34).is_err());
    }
}
