//! `satchel device …`, `satchel sync` and `satchel space export|import`:
//! a space on several devices, and a space as one portable file. Each
//! prints one line of result (`device list`: one line per device).

use std::{io::IsTerminal, path::PathBuf};

use clap::Subcommand;

use crate::{remote_cmd::ServerArgs, wallet_cmd, CmdResult, Failure};

/// Environment variable holding an export file's passphrase.
const EXPORT_PASSPHRASE_ENV: &str = "SATCHEL_EXPORT_PASSPHRASE";

#[derive(Subcommand)]
pub(crate) enum DeviceCommand {
    /// On the new device: ask to join a space (prints the enrolment URI).
    Request {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// On an enrolled device: approve a request (prints the confirmation code).
    Approve {
        /// Space id.
        #[arg(long)]
        space: String,
        /// The `satchel-enrol:` URI the new device printed.
        #[arg(long)]
        request: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// On the new device, once approved: finish with the code the approving
    /// device shows (prompted for in a terminal), then sync (prints the space id).
    Complete {
        /// The confirmation code shown on the approving device.
        #[arg(long)]
        confirm: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// The devices of a space (one line each: id, state, this device).
    List {
        /// Space id.
        #[arg(long)]
        space: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Remove a lost device: the server refuses it from now on and the sync
    /// key is rotated for the devices that remain.
    Remove {
        /// Space id.
        #[arg(long)]
        space: String,
        /// The device to remove.
        #[arg(long)]
        device: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub(crate) fn run_device(wallet: PathBuf, cmd: DeviceCommand) -> CmdResult {
    match cmd {
        DeviceCommand::Request { server } => {
            // A new device may have no wallet yet.
            let w = wallet_cmd::open(&wallet, true)?;
            println!(
                "{}",
                w.request_enrolment(&server.device(&w)?, satchel_core::client::DEVICE_KEY_ALIAS)?
            );
        }
        DeviceCommand::Approve {
            space,
            request,
            server,
        } => {
            let w = wallet_cmd::open_wallet(&wallet)?;
            let code = w.approve_enrolment(&space, &request, &server.device(&w)?)?;
            println!("{code}");
        }
        DeviceCommand::Complete { confirm, server } => {
            let w = wallet_cmd::open_wallet(&wallet)?;
            let device = server.device(&w)?;
            let confirmed = match confirm {
                Some(code) => code,
                None => prompt_code(&w.enrolment_offer(&device)?)?,
            };
            let space = w.complete_enrolment(&device, &confirmed)?;
            w.sync_space(&space.id, &device, &|_| {})?;
            println!("{}", space.id);
        }
        DeviceCommand::List { space, server } => {
            let w = wallet_cmd::open_wallet(&wallet)?;
            for d in w.devices(&space, &server.device(&w)?)? {
                println!(
                    "{}\t{}{}",
                    d.device_id,
                    if d.removed_at.is_some() {
                        "removed"
                    } else {
                        "enrolled"
                    },
                    if d.this_device { "\tthis device" } else { "" }
                );
            }
        }
        DeviceCommand::Remove {
            space,
            device,
            server,
        } => {
            let w = wallet_cmd::open_wallet(&wallet)?;
            w.remove_device(&space, &device, &server.device(&w)?)?;
            println!("removed {device} from {space}; sync key rotated");
        }
    }
    Ok(())
}

/// Shows the code this device computed and asks the person to type the one
/// the approving device shows.
fn prompt_code(offer: &satchel_core::EnrolmentOffer) -> Result<String, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure(
            "--confirm is required: the code the approving device shows".into(),
        ));
    }
    eprintln!(
        "Joining space \"{}\". This device shows {}.",
        offer.space_name, offer.code
    );
    eprint!("Type the code the approving device shows: ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

pub(crate) fn run_sync(wallet: PathBuf, space: String, server: ServerArgs) -> CmdResult {
    let w = wallet_cmd::open_wallet(&wallet)?;
    let r = w.sync_space(&space, &server.device(&w)?, &|_| {})?;
    println!(
        "pulled {} ({} changed something here), pushed {}",
        r.pulled, r.merged, r.pushed
    );
    Ok(())
}

fn export_passphrase(confirm: bool) -> Result<String, Failure> {
    if let Ok(p) = std::env::var(EXPORT_PASSPHRASE_ENV) {
        return Ok(p);
    }
    let no_terminal = |e: std::io::Error| {
        Failure(format!(
            "no export passphrase: set {EXPORT_PASSPHRASE_ENV} or run in a terminal ({e})"
        ))
    };
    let p = rpassword::prompt_password("Export passphrase: ").map_err(no_terminal)?;
    if confirm && rpassword::prompt_password("Again: ").map_err(no_terminal)? != p {
        return Err(Failure("the passphrases differ".into()));
    }
    Ok(p)
}

pub(crate) fn run_export(wallet: PathBuf, space: String, out: PathBuf) -> CmdResult {
    let w = wallet_cmd::open_wallet(&wallet)?;
    let file = w.export_space(&space, &export_passphrase(true)?)?;
    // Owner-only, and never over an existing file.
    if !satchel_core::private_file::create_atomically(&out, &file)
        .map_err(|e| Failure(format!("cannot write {}: {e}", out.display())))?
    {
        return Err(Failure(format!(
            "{} exists: choose another name",
            out.display()
        )));
    }
    println!("exported space {space} to {}", out.display());
    Ok(())
}

pub(crate) fn run_import(wallet: PathBuf, file: PathBuf) -> CmdResult {
    let cannot = |e: std::io::Error| Failure(format!("cannot read {}: {e}", file.display()));
    // Bounded before reading: an export is never larger.
    if std::fs::metadata(&file).map_err(cannot)?.len()
        > satchel_core::wallet::MAX_EXPORT_BYTES as u64
    {
        return Err(Failure(format!(
            "{} is larger than any Satchel export",
            file.display()
        )));
    }
    let bytes = std::fs::read(&file).map_err(cannot)?;
    let w = wallet_cmd::open(&wallet, true)?;
    let r = w.import_space(&bytes, &export_passphrase(false)?)?;
    println!(
        "imported space {} ({} credentials, {} authorisations, {} consent records verified); {} to re-issue to this device",
        r.space.id,
        r.credentials,
        r.authorizations,
        r.consent_records,
        r.to_reissue.len()
    );
    Ok(())
}
