//! What every peer binary shares: reading the fixture the driver wrote,
//! the `check` mode (accept the presentation, report each tampered copy),
//! `Instant` timing (median of per-batch averages) and the one
//! machine-readable line each run prints.
//!
//! A peer binary is `peer-X <op> <fixture>`, op being `check`, `verify`,
//! `issue`, `present` or `sign`. It prints `<op>_ns_median=<f64> …` (or
//! `<op>=unsupported`) for the driver to read.

use std::{
    collections::BTreeMap,
    env,
    future::Future,
    hint::black_box,
    pin::pin,
    process::ExitCode,
    task::{Context, Poll, Waker},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

/// Prefix of the fixture keys holding tampered (or otherwise invalid)
/// presentations, e.g. `tamper.issuer_sig`.
pub const TAMPER_PREFIX: &str = "tamper.";

/// Warm-up before timing (caches, branch predictors, CPU clock).
const WARM_UP: Duration = Duration::from_millis(150);
/// Target length of one timed batch.
const BATCH: Duration = Duration::from_millis(10);
/// Batches per run; the run reports the median of their averages.
const BATCHES: usize = 21;

/// The inputs every peer reads: one `key=value` per line, values without
/// newlines (compact JSON, base64url, compact SD-JWTs).
pub struct Fixture {
    fields: BTreeMap<String, String>,
}

impl Fixture {
    /// Writes `fields` to `path`.
    pub fn write(path: &str, fields: &[(String, String)]) -> Result<(), String> {
        let mut text = String::new();
        for (k, v) in fields {
            if k.contains('=') || k.contains('\n') || v.contains('\n') {
                return Err(format!("fixture field {k} cannot be written on one line"));
            }
            text.push_str(k);
            text.push('=');
            text.push_str(v);
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))
    }

    /// Reads the fixture at `path`.
    pub fn read(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let fields = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(Fixture { fields })
    }

    /// The value of `key`; panics (with the key) when the driver did not write it.
    pub fn get(&self, key: &str) -> &str {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("fixture has no {key}"))
    }

    /// A comma-separated list.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key).split(',').map(str::to_string).collect()
    }

    /// A base64url value, decoded.
    pub fn bytes(&self, key: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD
            .decode(self.get(key))
            .unwrap_or_else(|e| panic!("fixture {key} is not base64url: {e}"))
    }

    /// An integer value.
    pub fn int(&self, key: &str) -> i64 {
        self.get(key)
            .parse()
            .unwrap_or_else(|e| panic!("fixture {key} is not an integer: {e}"))
    }

    /// The tampered presentations, by case name.
    pub fn tampered(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(TAMPER_PREFIX)?, v.as_str())))
    }
}

/// base64url without padding, as JOSE uses it.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// base64url without padding.
pub fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// One library under test. `verify` must do the library's full verification
/// with the fixture's issuer key, `aud` and `nonce`; the optional operations
/// return `None` where the peer has no such operation.
pub trait Peer {
    /// Verifies `presentation`; `Err` when the library refuses it.
    fn verify(&self, presentation: &str) -> Result<(), String>;

    /// What the `verify` op times: by default [`Peer::verify`] of the
    /// fixture's presentation, panicking if it fails.
    fn verify_timed(&self, presentation: &str) {
        if let Err(e) = self.verify(presentation) {
            panic!("verification failed while timing: {e}");
        }
    }

    /// Issues the fixture's claims (10 selectively disclosable) as an SD-JWT.
    fn issue(&self) -> Option<Result<String, String>> {
        None
    }

    /// Presents the fixture's issued SD-JWT: 3 disclosures and a KB-JWT.
    fn present(&self) -> Option<Result<String, String>> {
        None
    }

    /// One raw signature (the ring peer only).
    fn sign(&self) -> Option<Vec<u8>> {
        None
    }
}

/// A timing: the median over batches of the average time per operation.
pub struct Timing {
    /// Median of the per-batch averages, nanoseconds per operation.
    pub ns_median: f64,
    /// Operations per batch.
    pub batch_size: u64,
    /// Fastest and slowest batch average, for a feel of the spread.
    pub ns_min: f64,
    /// See `ns_min`.
    pub ns_max: f64,
}

/// Times `op`: warm-up, then [`BATCHES`] batches sized to about [`BATCH`].
pub fn measure<T>(mut op: impl FnMut() -> T) -> Timing {
    let start = Instant::now();
    let mut warm = 0u64;
    while start.elapsed() < WARM_UP {
        black_box(op());
        warm += 1;
    }
    let per_op = start.elapsed().as_secs_f64() / warm as f64;
    let batch_size = ((BATCH.as_secs_f64() / per_op) as u64).max(1);
    let mut averages = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let t = Instant::now();
        for _ in 0..batch_size {
            black_box(op());
        }
        averages.push(t.elapsed().as_nanos() as f64 / batch_size as f64);
    }
    averages.sort_by(f64::total_cmp);
    Timing {
        ns_median: averages[BATCHES / 2],
        batch_size,
        ns_min: averages[0],
        ns_max: averages[BATCHES - 1],
    }
}

/// Runs a future that never waits on I/O (ssi's signing and verification
/// are `async` only to allow remote keys) to completion on this thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::hint::spin_loop();
    }
}

/// The peer binary's `main`: parses `<op> <fixture>`, builds the peer,
/// runs the op and prints its line.
pub fn main<P: Peer>(make: impl FnOnce(&Fixture) -> Result<P, String>) -> ExitCode {
    let args: Vec<String> = env::args().collect();
    let (Some(op), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!(
            "usage: {} check|verify|issue|present|sign <fixture>",
            args[0]
        );
        return ExitCode::FAILURE;
    };
    let result = Fixture::read(path).and_then(|f| {
        let peer = make(&f)?;
        run(op, &peer, &f)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", args[0]);
            ExitCode::FAILURE
        }
    }
}

/// Times `op` if the peer supports it (`None` from a first call says not).
fn timed<T>(name: &str, mut op: impl FnMut() -> Option<T>) -> Result<(), String> {
    if op().is_none() {
        return unsupported(name);
    }
    report(name, &measure(op));
    Ok(())
}

fn run<P: Peer>(op: &str, peer: &P, fixture: &Fixture) -> Result<(), String> {
    let presentation = fixture.get("presentation");
    match op {
        "check" => check(peer, fixture),
        "verify" => {
            report("verify", &measure(|| peer.verify_timed(presentation)));
            Ok(())
        }
        "issue" => timed("issue", || peer.issue()),
        "present" => timed("present", || peer.present()),
        "sign" => timed("sign", || peer.sign()),
        other => Err(format!("unknown op {other}")),
    }
}

fn unsupported(op: &str) -> Result<(), String> {
    println!("{op}=unsupported");
    Ok(())
}

fn report(op: &str, t: &Timing) {
    println!(
        "{op}_ns_median={:.1} ns_min={:.1} ns_max={:.1} batch_size={} batches={BATCHES}",
        t.ns_median, t.ns_min, t.ns_max, t.batch_size
    );
}

/// Accepts the real presentation (or fails), then reports for each tampered
/// copy whether the peer accepted it; the driver decides which it must refuse.
/// Issue and present outputs get a sanity check too.
fn check<P: Peer>(peer: &P, fixture: &Fixture) -> Result<(), String> {
    peer.verify(fixture.get("presentation"))
        .map_err(|e| format!("the valid presentation was refused: {e}"))?;
    println!("check case=valid accepted=true");
    for (case, token) in fixture.tampered() {
        match peer.verify(token) {
            Ok(()) => println!("check case={case} accepted=true"),
            Err(e) => println!(
                "check case={case} accepted=false reason={}",
                one_line(&e, 90)
            ),
        }
    }
    if let Some(issued) = peer.issue() {
        let issued = issued.map_err(|e| format!("issue failed: {e}"))?;
        // Issuer JWT, 10 disclosures, empty key-binding slot.
        let disclosures = issued.trim_end_matches('~').split('~').count() - 1;
        if disclosures != 10 || !issued.ends_with('~') {
            return Err(format!("issue made {disclosures} disclosures, expected 10"));
        }
        println!("check case=issue disclosures={disclosures}");
    }
    if let Some(presented) = peer.present() {
        let presented = presented.map_err(|e| format!("present failed: {e}"))?;
        let disclosures = presented.split('~').count() - 2;
        peer.verify(&presented)
            .map_err(|e| format!("own presentation refused by own verify: {e}"))?;
        println!("check case=present disclosures={disclosures} self_verified=true");
    }
    if let Some(sig) = peer.sign() {
        println!("check case=sign signature_bytes={}", sig.len());
    }
    Ok(())
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        flat
    } else {
        flat.chars().take(max).collect::<String>() + "…"
    }
}
