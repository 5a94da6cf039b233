//! Test support that never ships: PostgreSQL for the server's conformance
//! suite. Tests take the server from `SATCHEL_TEST_PG_URL` when it is set
//! (a database URL whose user may create databases) and otherwise start a
//! throwaway cluster of their own on a free port.

/// PostgreSQL for a test run: an operator's server or a throwaway cluster.
pub enum TestPostgres {
    /// `SATCHEL_TEST_PG_URL`.
    External(String),
    /// A cluster this process started (stopped on drop).
    Cluster(PgCluster),
}

impl TestPostgres {
    /// `SATCHEL_TEST_PG_URL` if set, else a fresh cluster; `Err` says why
    /// neither is available.
    pub fn get() -> Result<TestPostgres, String> {
        match std::env::var("SATCHEL_TEST_PG_URL") {
            Ok(url) if !url.is_empty() => Ok(TestPostgres::External(url)),
            _ => PgCluster::start().map(TestPostgres::Cluster),
        }
    }

    /// Creates a fresh database (its name made unique) and returns its URL.
    pub fn database(&self, name: &str) -> Result<String, String> {
        match self {
            TestPostgres::Cluster(c) => c.database(name),
            TestPostgres::External(url) => {
                let unique = format!("{name}_{}", satchel_core::b64::new_id().replace('-', "_"));
                let mut c =
                    postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?;
                c.batch_execute(&format!("CREATE DATABASE {unique}"))
                    .map_err(|e| e.to_string())?;
                Ok(replace_database(url, &unique))
            }
        }
    }
}

/// `url` with its database name replaced by `db`.
fn replace_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(i) if i > base.find("//").map_or(0, |j| j + 1) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A throwaway PostgreSQL cluster on a free port, for tests. Installs
/// Debian's `postgresql` if its binaries are missing (as root).
pub struct PgCluster {
    dir: tempfile_dir::Dir,
    bin: std::path::PathBuf,
    /// `postgres://…` of the cluster's `postgres` database.
    pub url: String,
    port: u16,
    as_postgres: bool,
}

mod tempfile_dir {
    /// A directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn pg_bin() -> Option<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

impl PgCluster {
    /// Starts a cluster, or says why it cannot (`Err` with the reason).
    pub fn start() -> Result<PgCluster, String> {
        let root = is_root();
        if pg_bin().is_none() && root {
            let _ = std::process::Command::new("apt-get")
                .args(["update", "-qq"])
                .status();
            let _ = std::process::Command::new("apt-get")
                .args([
                    "install",
                    "-y",
                    "-qq",
                    "--no-install-recommends",
                    "postgresql",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
        }
        let bin =
            pg_bin().ok_or("PostgreSQL server binaries not found and could not be installed")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let dir = std::env::temp_dir().join(format!("satchel-pg-{}", satchel_core::b64::new_id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let dir = tempfile_dir::Dir(dir);
        // initdb refuses to run as root: run the cluster as the postgres user.
        let as_postgres = root;
        if as_postgres {
            let ok = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir.0)
                .status()
                .map_err(|e| e.to_string())?;
            if !ok.success() {
                return Err("cannot hand the cluster directory to the postgres user".into());
            }
        }
        let c = PgCluster {
            url: format!("postgres://satchel@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = c.dir.0.join("data");
        c.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-A",
                "trust",
                "-U",
                "satchel",
                "--no-sync",
            ],
        )?;
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            c.port,
            c.dir.0.display()
        );
        c.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-o",
                &opts,
                "-w",
                "-l",
                &c.dir.0.join("log").to_string_lossy(),
                "start",
            ],
        )?;
        Ok(c)
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or_default()
            ))
        }
    }

    /// Creates a fresh database and returns its URL.
    pub fn database(&self, name: &str) -> Result<String, String> {
        let mut c =
            postgres::Client::connect(&self.url, postgres::NoTls).map_err(|e| e.to_string())?;
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| e.to_string())?;
        Ok(format!("postgres://satchel@127.0.0.1:{}/{name}", self.port))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.0.join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_are_replaced() {
        use super::replace_database as r;
        assert_eq!(r("postgres://u@h:5/postgres", "x"), "postgres://u@h:5/x");
        assert_eq!(
            r("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(r("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
