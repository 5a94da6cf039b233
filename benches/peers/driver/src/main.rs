//! `bench-peers [--rounds N]`: writes the fixture, checks every peer once
//! (the presentation accepted, tampered copies refused), then runs each
//! peer binary's operations interleaved (A B C D A B C D …), pinned to one
//! core when `taskset` is there, and prints medians and ratios. No timing
//! is judged: the output is for reading, never pass/fail.

mod fixture;

use std::{
    collections::BTreeMap,
    env,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    time::{SystemTime, UNIX_EPOCH},
};

use fixture::{MUST_REFUSE, REPORTED, SIGNATURE_CASE};

const DEFAULT_ROUNDS: usize = 7;

/// A peer binary and the name the table shows.
struct PeerBin {
    name: &'static str,
    bin: &'static str,
    /// An SD-JWT library (all cases apply) or the raw-signature floor.
    sd_jwt: bool,
}

const PEERS: [PeerBin; 4] = [
    PeerBin {
        name: "Satchel",
        bin: "peer-satchel",
        sd_jwt: true,
    },
    PeerBin {
        name: "sd-jwt-rs",
        bin: "peer-sd-jwt-rs",
        sd_jwt: true,
    },
    PeerBin {
        name: "ssi-sd-jwt",
        bin: "peer-ssi",
        sd_jwt: true,
    },
    PeerBin {
        name: "ring P-256",
        bin: "peer-ring",
        sd_jwt: false,
    },
];

const OPS: [&str; 4] = ["verify", "issue", "present", "sign"];

struct Runner {
    dir: PathBuf,
    fixture: String,
    pinned: bool,
}

impl Runner {
    fn run(&self, peer: &PeerBin, op: &str) -> Result<String, String> {
        let bin = self.dir.join(peer.bin);
        let mut cmd = if self.pinned {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        let out = cmd
            .args([op, &self.fixture])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} {op} failed ({}): {}",
                peer.bin,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Nanoseconds per op, or `None` when the peer has no such operation.
    fn time(&self, peer: &PeerBin, op: &str) -> Result<Option<f64>, String> {
        let out = self.run(peer, op)?;
        if out.contains(&format!("{op}=unsupported")) {
            return Ok(None);
        }
        let key = format!("{op}_ns_median=");
        out.split_whitespace()
            .find_map(|w| w.strip_prefix(&key))
            .and_then(|v| v.parse().ok())
            .map(Some)
            .ok_or_else(|| format!("{} {op}: no {key} in {out:?}", peer.bin))
    }
}

fn main() -> ExitCode {
    match drive() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-peers: {e}");
            ExitCode::FAILURE
        }
    }
}

fn drive() -> Result<(), String> {
    let args: Vec<String> = env::args().collect();
    let rounds = match args.iter().position(|a| a == "--rounds") {
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .filter(|&n: &usize| n > 0)
            .ok_or("--rounds needs a positive number")?,
        None => DEFAULT_ROUNDS,
    };
    let exe = env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no binary directory")?.to_path_buf();
    // target/<profile>/peer-fixture.txt: under target/, rewritten every run.
    let fixture_path = dir.join("peer-fixture.txt");
    let fixture = fixture_path.to_string_lossy().into_owned();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64;
    peer_harness::Fixture::write(&fixture, &fixture::generate(now)?)?;

    let pinned = Command::new("taskset")
        .args(["-c", "0", "true"])
        .status()
        .is_ok_and(|s| s.success());
    let runner = Runner {
        dir: dir.clone(),
        fixture,
        pinned,
    };
    let peers: Vec<&PeerBin> = PEERS.iter().filter(|p| exists(&dir, p.bin)).collect();

    println!("== Satchel peer benchmark (benches/peers) ==");
    println!("machine:  {}", machine());
    println!(
        "pinning:  {}",
        if pinned {
            "taskset -c 0 (every peer process on core 0)"
        } else {
            "NONE: taskset not found, peers run unpinned"
        }
    );
    println!("rounds:   {rounds}, peers interleaved within each round");
    println!("input:    SD-JWT VC, 10 selectively disclosable claims, 3 disclosed, ES256 issuer, ES256 KB-JWT (aud+nonce)");
    for p in PEERS.iter().filter(|p| !exists(&dir, p.bin)) {
        println!("left out: {} ({} not built)", p.name, p.bin);
    }

    check(&runner, &peers)?;

    // results[(peer, op)] = ns per op, one per round.
    let mut results: BTreeMap<(usize, &str), Vec<f64>> = BTreeMap::new();
    let mut unsupported: Vec<(usize, &str)> = Vec::new();
    for round in 1..=rounds {
        eprint!("bench-peers: round {round}/{rounds} …");
        for op in OPS {
            for (i, peer) in peers.iter().enumerate() {
                if unsupported.contains(&(i, op)) {
                    continue;
                }
                match runner.time(peer, op)? {
                    Some(ns) => results.entry((i, op)).or_default().push(ns),
                    None => unsupported.push((i, op)),
                }
            }
        }
        eprintln!(" done");
    }
    let median = |peer: &str, op: &str| -> Option<f64> {
        let i = peers.iter().position(|p| p.name == peer)?;
        results.get(&(i, op)).map(|v| median_of(v))
    };

    println!();
    println!(
        "{:<8} {:<11} {:>11} {:>10}   {:>21}",
        "op", "library", "median µs", "ops/s", "min–max µs (rounds)"
    );
    for op in OPS {
        for (i, peer) in peers.iter().enumerate() {
            let Some(v) = results.get(&(i, op)) else {
                continue;
            };
            let m = median_of(v) / 1000.0;
            let (lo, hi) = v.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &x| {
                (lo.min(x / 1000.0), hi.max(x / 1000.0))
            });
            println!(
                "{op:<8} {:<11} {m:>11.2} {:>10.0}   {:>21}",
                peer.name,
                1e6 / m,
                format!("{lo:.2}–{hi:.2}")
            );
        }
    }

    println!();
    println!("ratios (time ÷ time, medians of this run only):");
    let satchel = |op| median("Satchel", op);
    for op in ["verify", "issue", "present"] {
        for other in ["sd-jwt-rs", "ssi-sd-jwt"] {
            if let (Some(s), Some(o)) = (satchel(op), median(other, op)) {
                println!(
                    "  {op:<8} Satchel vs {other:<11} Satchel ÷ {other} = {:.3}  ({})",
                    s / o,
                    speed(s, o)
                );
            }
        }
    }
    if let (Some(s), Some(v)) = (satchel("verify"), median("ring P-256", "verify")) {
        let ceiling = 2.0 * v;
        println!(
            "  verify   Satchel vs ceiling     ceiling = 2 × ring P-256 verify = {:.2} µs; {:.1} % of ceiling; {:.2} µs outside the two verifies",
            ceiling / 1000.0,
            100.0 * ceiling / s,
            (s - ceiling) / 1000.0
        );
    }
    if let Some(sign) = median("ring P-256", "sign") {
        println!(
            "  one ring P-256 sign = {:.2} µs (issue and present each sign once)",
            sign / 1000.0
        );
        for op in ["issue", "present"] {
            for peer in ["Satchel", "sd-jwt-rs", "ssi-sd-jwt"] {
                if let Some(t) = median(peer, op) {
                    println!("  {op:<8} {peer:<11} ÷ sign = {:.2}", t / sign);
                }
            }
        }
    }
    println!();
    println!("Numbers from different runs are not comparable: compare only within one run.");
    Ok(())
}

/// Runs every peer's `check`: the valid presentation must pass; an SD-JWT
/// peer must refuse every `MUST_REFUSE` case, the ring peer the issuer
/// signature case. Prints one line per case.
fn check(runner: &Runner, peers: &[&PeerBin]) -> Result<(), String> {
    let mut table: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut extra = Vec::new();
    let mut failures = Vec::new();
    for (i, peer) in peers.iter().enumerate() {
        let out = runner.run(peer, "check")?;
        for line in out.lines() {
            let Some(rest) = line.strip_prefix("check case=") else {
                continue;
            };
            let case = rest.split_whitespace().next().unwrap_or_default();
            let Some(accepted) = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("accepted="))
            else {
                extra.push(format!("  {:<11} {rest}", peer.name));
                continue;
            };
            let applies = peer.sd_jwt || case == SIGNATURE_CASE || case == "valid";
            let cell = match (applies, accepted == "true", case == "valid") {
                (false, _, _) => "n/a".to_string(),
                (true, true, true) => "accepted".to_string(),
                (true, false, _) => "refused".to_string(),
                (true, true, false) => {
                    if MUST_REFUSE.contains(&case) || case == SIGNATURE_CASE {
                        failures.push(format!("{} accepted {case}", peer.name));
                    }
                    "ACCEPTED".to_string()
                }
            };
            let row = table
                .entry(case.to_string())
                .or_insert_with(|| vec![String::new(); peers.len()]);
            row[i] = cell;
        }
    }
    println!();
    print!("{:<36}", "check (each peer, once)");
    for p in peers {
        print!(" {:>11}", p.name);
    }
    println!();
    let order = ["valid"]
        .iter()
        .chain(MUST_REFUSE.iter())
        .chain(REPORTED.iter());
    for case in order {
        let Some(row) = table.get(*case) else {
            continue;
        };
        let kind = if *case == "valid" {
            ""
        } else if MUST_REFUSE.contains(case) {
            " (must refuse)"
        } else {
            " (reported)"
        };
        print!("  {:<34}", format!("{case}{kind}"));
        for cell in row {
            print!(" {cell:>11}");
        }
        println!();
    }
    for line in extra {
        println!("{line}");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "a peer skips a check, its timing would mean nothing: {}",
            failures.join(", ")
        ))
    }
}

fn exists(dir: &Path, bin: &str) -> bool {
    dir.join(bin).is_file()
}

fn median_of(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// "Satchel 2.31× faster" / "Satchel 1.20× slower" from two times.
fn speed(satchel: f64, other: f64) -> String {
    if satchel <= other {
        format!("Satchel {:.2}× faster", other / satchel)
    } else {
        format!("Satchel {:.2}× slower", satchel / other)
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cpu}, {cores} cores, {} {}",
        env::consts::OS,
        env::consts::ARCH
    )
}
