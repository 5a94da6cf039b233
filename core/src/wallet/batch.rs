//! Importing many credentials at once (a restore, an issuer's batch): each
//! verified on whichever core is free, all stored in one transaction.

use std::collections::HashMap;

use super::{
    credentials::{
        prepare_credential, unverified_issuer, verify_with_any, HolderKeys, SealedCredential,
    },
    Credential, Space, Wallet, WalletError,
};
use crate::Jwk;

/// Below this many credentials per thread, one thread is quicker.
const PER_THREAD_MIN: usize = 16;

impl Wallet {
    /// Verifies `tokens` (SD-JWT VCs as issued) and stores those that verify
    /// in `space_id`, in one transaction. Each token gets its own result, in
    /// order: a bad one is reported and does not stop the rest. Issuer keys
    /// are `issuer_key` if given, else those trusted for each credential's
    /// `iss` (looked up once per issuer). The error of the whole call is for
    /// what concerns them all: no such space, or storage failing.
    pub fn import_credentials(
        &self,
        space_id: &str,
        tokens: &[String],
        issuer_key: Option<&Jwk>,
        now: i64,
    ) -> Result<Vec<Result<Credential, WalletError>>, WalletError> {
        let space = self.space(space_id)?;
        let mut trusted: HashMap<String, Vec<Jwk>> = HashMap::new();
        let mut jobs = Vec::with_capacity(tokens.len());
        for token in tokens {
            let keys = match issuer_key {
                Some(k) => Ok(vec![k.clone()]),
                None => self.keys_for(token, &mut trusted),
            };
            jobs.push((token.as_str(), keys));
        }
        let outcomes = self.verify_all(&space, jobs, now)?;
        let mut marks = Vec::with_capacity(outcomes.len());
        let mut stored = Vec::new();
        for outcome in outcomes {
            marks.push(outcome.map(|s| stored.push(s)));
        }
        let mut written = self.write_credentials(&space, stored)?.into_iter();
        Ok(marks
            .into_iter()
            .map(|m| {
                m.and_then(|()| {
                    written
                        .next()
                        .ok_or_else(|| WalletError::Storage("a credential was not stored".into()))
                })
            })
            .collect())
    }

    /// The trusted keys for a token's issuer, from `cache` or the wallet.
    fn keys_for(
        &self,
        token: &str,
        cache: &mut HashMap<String, Vec<Jwk>>,
    ) -> Result<Vec<Jwk>, WalletError> {
        let iss = unverified_issuer(token)?;
        if let Some(keys) = cache.get(&iss) {
            return Ok(keys.clone());
        }
        let keys = self.trusted_issuer_keys(&iss)?;
        if keys.is_empty() {
            return Err(WalletError::UnknownIssuer(iss));
        }
        cache.insert(iss, keys.clone());
        Ok(keys)
    }

    /// Verifies and seals every job, in order, on up to as many threads
    /// as there are cores.
    fn verify_all(
        &self,
        space: &Space,
        mut jobs: Vec<Job<'_>>,
        now: i64,
    ) -> Result<Vec<Result<SealedCredential, WalletError>>, WalletError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.min(jobs.len() / PER_THREAD_MIN).max(1);
        let holder_keys = HolderKeys::of(space);
        let verify = |(token, keys): Job<'_>| {
            let (verified, key) = verify_with_any(token, &keys?, now)?;
            holder_keys.check(&verified)?;
            let stored = prepare_credential(space, token, verified.claims, key, None);
            Ok(self.seal_credential(stored))
        };
        if threads == 1 {
            return Ok(jobs.into_iter().map(verify).collect());
        }
        let chunk = jobs.len().div_ceil(threads);
        let mut parts = Vec::with_capacity(threads);
        while jobs.len() > chunk {
            let rest = jobs.split_off(chunk);
            parts.push(std::mem::replace(&mut jobs, rest));
        }
        parts.push(jobs);
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .into_iter()
                .map(|part| scope.spawn(move || part.into_iter().map(verify).collect::<Vec<_>>()))
                .collect();
            let mut out = Vec::new();
            for h in handles {
                out.extend(h.join().map_err(|_| {
                    WalletError::InvalidInput("a credential could not be verified".into())
                })?);
            }
            Ok(out)
        })
    }
}

type Job<'a> = (&'a str, Result<Vec<Jwk>, WalletError>);
