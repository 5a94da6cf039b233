//! Spec tools for transparency logs, status lists and signed notes.

use base64::{engine::general_purpose::STANDARD, Engine};
use clap::Subcommand;
use satchel_core::{
    jws,
    note::NoteVerifier,
    status_list::StatusList,
    tlog::{self, Hash},
};

use crate::{read_file, read_public_jwk, CmdResult, Failure};

#[derive(Subcommand)]
pub(crate) enum TlogCommand {
    /// Verify an RFC 9162 inclusion proof; prints `ok`.
    VerifyInclusion {
        /// Leaf index.
        #[arg(long)]
        index: u64,
        /// Tree size.
        #[arg(long)]
        size: u64,
        /// Leaf hash (standard base64, 32 bytes).
        #[arg(long)]
        leaf_hash: String,
        /// Root hash (standard base64).
        #[arg(long)]
        root: String,
        /// Proof hashes, comma-separated standard base64 ("" for none).
        #[arg(long, allow_hyphen_values = true)]
        proof: String,
    },
    /// Verify an RFC 9162 consistency proof; prints `ok`.
    VerifyConsistency {
        /// First tree size.
        #[arg(long)]
        size1: u64,
        /// Second tree size.
        #[arg(long)]
        size2: u64,
        /// First root hash (standard base64).
        #[arg(long)]
        root1: String,
        /// Second root hash (standard base64).
        #[arg(long)]
        root2: String,
        /// Proof hashes, comma-separated standard base64 ("" for none).
        #[arg(long, allow_hyphen_values = true)]
        proof: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum StatusListCommand {
    /// Print the status at an index of a status list token.
    Get {
        /// File holding the `statuslist+jwt`.
        #[arg(long)]
        token: String,
        /// Index.
        #[arg(long)]
        index: usize,
        /// Publisher's public JWK: verify the signature (and `sub` with --uri).
        #[arg(long)]
        key: Option<String>,
        /// Expected `sub` (with --key).
        #[arg(long, requires = "key")]
        uri: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum NoteCommand {
    /// Verify a C2SP signed note; prints its text.
    Verify {
        /// Verifier key `<name>+<hash>+<base64 key>`.
        #[arg(long)]
        vkey: String,
        /// Note file.
        note_file: String,
    },
}

fn hash(b64: &str, what: &str) -> Result<Hash, Failure> {
    STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| Failure(format!("{what} is not standard base64 of 32 bytes")))
}

fn proof(list: &str) -> Result<Vec<Hash>, Failure> {
    if list.trim().is_empty() {
        return Ok(Vec::new());
    }
    list.split(',')
        .enumerate()
        .map(|(i, h)| hash(h, &format!("proof hash {i}")))
        .collect()
}

pub(crate) fn run_tlog(cmd: TlogCommand) -> CmdResult {
    match cmd {
        TlogCommand::VerifyInclusion {
            index,
            size,
            leaf_hash,
            root,
            proof: p,
        } => {
            tlog::verify_inclusion(
                index,
                size,
                &hash(&leaf_hash, "leaf hash")?,
                &proof(&p)?,
                &hash(&root, "root")?,
            )?;
        }
        TlogCommand::VerifyConsistency {
            size1,
            size2,
            root1,
            root2,
            proof: p,
        } => {
            tlog::verify_consistency(
                size1,
                size2,
                &hash(&root1, "root1")?,
                &hash(&root2, "root2")?,
                &proof(&p)?,
            )?;
        }
    }
    println!("ok");
    Ok(())
}

pub(crate) fn run_status_list(cmd: StatusListCommand) -> CmdResult {
    let StatusListCommand::Get {
        token,
        index,
        key,
        uri,
    } = cmd;
    let token = read_file(&token)?;
    let verified = key.is_some();
    let list = match key {
        Some(k) => {
            let vk = read_public_jwk(&k)?.verifying_key()?;
            let jwt = jws::decode(token.trim())?;
            let sub = jwt
                .payload_object()?
                .get("sub")
                .and_then(|s| s.as_str())
                .map(str::to_owned)
                .unwrap_or_default();
            StatusList::from_token(
                &token,
                &vk,
                uri.as_deref().unwrap_or(&sub),
                satchel_core::unix_now(),
            )?
        }
        None => {
            // Without a key the token is only decoded: say so on stderr.
            let jwt = jws::decode(token.trim())?;
            if !jwt
                .header
                .typ_is(satchel_core::status_list::STATUS_LIST_TYP)
            {
                return Err(Failure("not a statuslist+jwt".into()));
            }
            let payload = jwt.payload_object()?;
            let sl = payload
                .get("status_list")
                .ok_or(Failure("no status_list claim".into()))?;
            let bits = sl
                .get("bits")
                .and_then(|b| b.as_u64())
                .and_then(|b| u8::try_from(b).ok())
                .ok_or(Failure("bad bits".into()))?;
            let lst = sl
                .get("lst")
                .and_then(|l| l.as_str())
                .ok_or(Failure("no lst".into()))?;
            StatusList::decode(bits, lst)?
        }
    };
    println!("{}", list.get(index)?);
    if !verified {
        eprintln!("note: signature not checked (give --key to verify)");
    }
    Ok(())
}

pub(crate) fn run_note(cmd: NoteCommand) -> CmdResult {
    let NoteCommand::Verify { vkey, note_file } = cmd;
    let v = NoteVerifier::parse(&vkey)?;
    let note = read_file(&note_file)?;
    print!("{}", v.verify(&note)?);
    Ok(())
}
