//! A throw-away PostgreSQL cluster on loopback for tests and benchmarks: a primary and
//! synchronous streaming standbys in a temporary directory, with the operations a failover
//! test needs — `kill -9` a server, restart it, promote a standby, point the others at the new
//! primary, rebuild a dead node as a standby.
//!
//! Nodes are named `node0`, `node1`, … (`node0` is the first primary). Every node's
//! `synchronous_standby_names` is `ANY 1 (node0, node1, …)`, so whichever node is primary waits
//! for any one of the others; a standby reports its node name as `application_name`.
//!
//! Roles and database, on every node (they replicate):
//! - [`SUPERUSER`] `postgres` (for administration in tests),
//! - [`USER`] `urna`, an ordinary login role granted `pg_monitor` and owning database
//!   [`DATABASE`] `urna`, the role the application connects as,
//! - [`REPLICATION_USER`] `replicator`, which the standbys stream as.
//!
//! Authentication is `trust` on 127.0.0.1 only: this is for tests, never a deployment.
//!
//! Servers refuse to run as root, so when the test runs as root the files and processes
//! belong to the `postgres` account (its uid and gid are read from `/etc/passwd`). Binaries
//! come from `URNA_PG_BIN` if set, else the newest `/usr/lib/postgresql/*/bin` (Debian's
//! layout), else `pg_config --bindir`.
//!
//! Killing a node kills the postmaster and every process it started at once (PostgreSQL puts
//! each backend in its own session, so a process-group kill would miss them): the clients'
//! connections drop at that instant, as when a machine dies. Unlike a power cut, the kernel's
//! page cache survives, so these tests exercise crash faults of the database processes, not of
//! the disks. Dropping the [`Cluster`] kills every node (also when a test panics).

#![forbid(unsafe_code)]

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub use postgres;

/// The superuser, for administration in tests.
pub const SUPERUSER: &str = "postgres";
/// The application's role: login, `pg_monitor`, owner of [`DATABASE`].
pub const USER: &str = "urna";
/// The application's database.
pub const DATABASE: &str = "urna";
/// The role standbys stream as.
pub const REPLICATION_USER: &str = "replicator";

/// What [`Cluster::wait_ready`]'s error says when a server could not bind its port.
const PORT_TAKEN: &str = "its port was taken";

/// How long any single wait (start, promotion, replication) may take before it is an error.
const WAIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(20);

/// What went wrong, with the server log's tail when a server was involved.
#[derive(Debug)]
pub struct ClusterError(String);

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClusterError {}

impl From<io::Error> for ClusterError {
    fn from(e: io::Error) -> Self {
        ClusterError(format!("I/O: {e}"))
    }
}

impl From<postgres::Error> for ClusterError {
    fn from(e: postgres::Error) -> Self {
        // `postgres::Error`'s own text is only "db error": the server's code and message are
        // what tells a test's reader why a cluster did not come up.
        match e.as_db_error() {
            Some(db) => ClusterError(format!(
                "PostgreSQL: {} ({}): {}",
                db.message(),
                db.code().code(),
                db.detail().unwrap_or("")
            )),
            None => ClusterError(format!("PostgreSQL: {e}")),
        }
    }
}

pub type Result<T> = std::result::Result<T, ClusterError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(ClusterError(msg.into()))
}

/// How to build a cluster.
#[derive(Debug, Clone)]
pub struct Builder {
    standbys: usize,
    sync_names: Option<String>,
    settings: Vec<(String, String)>,
    wait_sync: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            standbys: 1,
            sync_names: None,
            settings: Vec::new(),
            wait_sync: true,
        }
    }
}

impl Builder {
    /// The number of standbys besides the primary (default 1).
    pub fn standbys(mut self, n: usize) -> Self {
        self.standbys = n;
        self
    }

    /// Overrides `synchronous_standby_names` (default `ANY 1 (node0, node1, …)`); `""` makes
    /// replication asynchronous.
    pub fn synchronous_standby_names(mut self, value: &str) -> Self {
        self.sync_names = Some(value.to_string());
        self
    }

    /// Adds a `postgresql.conf` setting for every node; `value` is written as is (quote
    /// strings: `"'local'"`).
    pub fn setting(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.to_string(), value.to_string()));
        self
    }

    /// Whether [`Builder::start`] waits until every standby streams and one is synchronous
    /// (default true; a cluster whose settings name no synchronous standby never gets there).
    pub fn wait_sync(mut self, wait: bool) -> Self {
        self.wait_sync = wait;
        self
    }

    /// Creates and starts the cluster. A port picked free can be taken by another process
    /// (another test's cluster, an outgoing connection) before the server binds it: the
    /// server then exits at start, and the cluster is made again on other ports, a few times.
    pub fn start(self) -> Result<Cluster> {
        let mut attempt = 0;
        loop {
            match Cluster::create(self.clone()) {
                Err(e) if e.0.contains(PORT_TAKEN) && attempt < 4 => attempt += 1,
                r => return r,
            }
        }
    }
}

/// One server of the cluster.
struct Node {
    name: String,
    port: u16,
    data: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// A running cluster; dropping it kills every server and removes its files.
pub struct Cluster {
    nodes: Vec<Node>,
    primary: usize,
    bin: PathBuf,
    owner: Option<(u32, u32)>,
    // Declared last: dropped after the nodes are killed.
    root: tempfile::TempDir,
}

impl Cluster {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A primary and `standbys` synchronous standbys, started, with every standby streaming
    /// and synchronous.
    pub fn start(standbys: usize) -> Result<Cluster> {
        Builder::default().standbys(standbys).start()
    }

    fn create(b: Builder) -> Result<Cluster> {
        let bin = pg_bin()?;
        let owner = owner()?;
        let root = tempfile::Builder::new().prefix("urna-pg.").tempdir()?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(root.path(), Some(uid), Some(gid))?;
        }
        let ports = free_ports(b.standbys + 1)?;
        let nodes: Vec<Node> = ports
            .into_iter()
            .enumerate()
            .map(|(i, port)| Node {
                name: format!("node{i}"),
                port,
                data: root.path().join(format!("node{i}")),
                log: root.path().join(format!("node{i}.log")),
                child: None,
            })
            .collect();
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let sync_names = b
            .sync_names
            .clone()
            .unwrap_or_else(|| format!("ANY 1 ({})", names.join(", ")));
        let mut cluster = Cluster {
            nodes,
            primary: 0,
            bin,
            owner,
            root,
        };
        cluster.init_primary(&sync_names, &b.settings)?;
        for i in 1..=b.standbys {
            cluster.basebackup(i, 0)?;
            cluster.start_node(i)?;
        }
        if b.wait_sync && b.standbys > 0 {
            if b.sync_names.is_none() {
                cluster.wait_synchronous(b.standbys)?;
            } else {
                cluster.wait_streaming(b.standbys)?;
                cluster.wait_sync()?;
            }
        }
        Ok(cluster)
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.owner {
            c.uid(uid).gid(gid);
        }
        // Keep the servers out of the terminal's process group: a ^C to the test must not
        // reach them before the test's own cleanup does.
        c.process_group(0).current_dir(self.root.path());
        c
    }

    fn run(&self, mut c: Command, what: &str) -> Result<()> {
        let out = c.stdin(Stdio::null()).output()?;
        if !out.status.success() {
            return err(format!(
                "{what} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    fn init_primary(&mut self, sync_names: &str, settings: &[(String, String)]) -> Result<()> {
        let data = self.nodes[0].data.clone();
        let mut c = self.command("initdb");
        c.arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync");
        self.run(c, "initdb")?;
        let mut conf = format!(
            "\n# urna-pgcluster\n\
             listen_addresses = '127.0.0.1'\n\
             wal_level = replica\n\
             max_wal_senders = 10\n\
             max_replication_slots = 10\n\
             wal_keep_size = '512MB'\n\
             hot_standby = on\n\
             synchronous_commit = on\n\
             synchronous_standby_names = '{}'\n\
             fsync = on\n\
             shared_buffers = '16MB'\n\
             max_connections = 40\n\
             wal_receiver_status_interval = '1s'\n\
             wal_retrieve_retry_interval = '100ms'\n\
             log_min_messages = warning\n\
             log_line_prefix = '%m [%p] %a '\n",
            sync_names.replace('\'', "''")
        );
        for (k, v) in settings {
            conf.push_str(&format!("{k} = {v}\n"));
        }
        fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?
            .write_all(conf.as_bytes())?;
        fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             host all all 127.0.0.1/32 trust\n\
             host replication all 127.0.0.1/32 trust\n",
        )?;
        self.start_node(0)?;
        let mut su = self.superuser(0)?;
        su.batch_execute(&format!(
            "CREATE ROLE {REPLICATION_USER} WITH REPLICATION LOGIN;\n\
             CREATE ROLE {USER} WITH LOGIN;\n\
             GRANT pg_monitor TO {USER};"
        ))?;
        su.batch_execute(&format!("CREATE DATABASE {DATABASE} OWNER {USER}"))?;
        Ok(())
    }

    /// Copies the current data of node `from` into node `i`'s (empty) data directory as a
    /// standby of `from` (`pg_basebackup -R`).
    fn basebackup(&self, i: usize, from: usize) -> Result<()> {
        let mut c = self.command("pg_basebackup");
        c.arg("-D")
            .arg(&self.nodes[i].data)
            .arg("-d")
            .arg(self.replication_conninfo(i, from))
            .args(["-X", "stream", "-c", "fast", "-R", "--no-sync"]);
        self.run(c, &format!("pg_basebackup of {}", self.nodes[i].name))
    }

    fn replication_conninfo(&self, i: usize, primary: usize) -> String {
        format!(
            "host=127.0.0.1 port={} user={REPLICATION_USER} application_name={}",
            self.nodes[primary].port, self.nodes[i].name
        )
    }

    fn start_node(&mut self, i: usize) -> Result<()> {
        if self.nodes[i].child.is_some() {
            return err(format!("{} is already running", self.nodes[i].name));
        }
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.nodes[i].log)?;
        let mut c = self.command("postgres");
        c.arg("-D")
            .arg(&self.nodes[i].data)
            .arg("-c")
            .arg(format!("port={}", self.nodes[i].port))
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                self.nodes[i].data.display()
            ))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = c.spawn()?;
        self.nodes[i].child = Some(child);
        self.wait_ready(i)
    }

    /// Waits until node `i` accepts connections — node `i` itself: a server answering on its
    /// port must have its data directory, or it is another cluster's that took the port.
    pub fn wait_ready(&mut self, i: usize) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        let ours = self.nodes[i].data.display().to_string();
        loop {
            if let Ok(mut c) = self.superuser(i) {
                let dir = c
                    .query_one("SELECT current_setting('data_directory')", &[])
                    .map(|r| r.get::<_, String>(0));
                if dir.ok().as_deref() == Some(ours.as_str()) {
                    return Ok(());
                }
            }
            if let Some(child) = self.nodes[i].child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    self.nodes[i].child = None;
                    let log = self.log_tail(i, 30);
                    let taken = if log.contains("could not bind") {
                        format!(" ({PORT_TAKEN})")
                    } else {
                        String::new()
                    };
                    return err(format!(
                        "{} exited at start ({status}){taken}:\n{log}",
                        self.nodes[i].name,
                    ));
                }
            }
            if Instant::now() > deadline {
                return err(format!(
                    "{} did not accept connections in {WAIT:?}:\n{}",
                    self.nodes[i].name,
                    self.log_tail(i, 30)
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// The last `n` lines of node `i`'s server log.
    pub fn log_tail(&self, i: usize, n: usize) -> String {
        let text = fs::read_to_string(&self.nodes[i].log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node currently primary (the one last promoted).
    pub fn primary(&self) -> usize {
        self.primary
    }

    /// The nodes other than the primary.
    pub fn standbys(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| i != self.primary)
            .collect()
    }

    pub fn is_running(&self, i: usize) -> bool {
        self.nodes[i].child.is_some()
    }

    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    pub fn port(&self, i: usize) -> u16 {
        self.nodes[i].port
    }

    /// The data directory of node `i`.
    pub fn data_dir(&self, i: usize) -> &Path {
        &self.nodes[i].data
    }

    /// A URL naming every node, for [`USER`] on `database`: a client that looks for the
    /// writable one (`target_session_attrs=read-write`) finds the primary after a failover.
    pub fn url_for(&self, database: &str) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!(
            "postgresql://{USER}@{}/{database}?connect_timeout=2",
            hosts.join(",")
        )
    }

    /// [`Cluster::url_for`] the application's database.
    pub fn url(&self) -> String {
        self.url_for(DATABASE)
    }

    /// A URL for [`USER`] on node `i` alone.
    pub fn node_url(&self, i: usize, database: &str) -> String {
        format!(
            "postgresql://{USER}@127.0.0.1:{}/{database}?connect_timeout=2",
            self.nodes[i].port
        )
    }

    /// A superuser connection to node `i`'s `postgres` database.
    pub fn superuser(&self, i: usize) -> Result<postgres::Client> {
        self.superuser_on(i, "postgres")
    }

    /// A superuser connection to `database` on node `i`. Its commits do not wait for a
    /// standby (`synchronous_commit = local`), so that administration works while none is
    /// synchronous.
    pub fn superuser_on(&self, i: usize, database: &str) -> Result<postgres::Client> {
        Ok(postgres::Config::new()
            .host("127.0.0.1")
            .port(self.nodes[i].port)
            .user(SUPERUSER)
            .dbname(database)
            .options("-c synchronous_commit=local")
            .connect_timeout(Duration::from_secs(2))
            .connect(postgres::NoTls)?)
    }

    /// Creates a database owned by [`USER`] on the primary, for a test that wants its own.
    pub fn create_database(&self, name: &str) -> Result<()> {
        let mut su = self.superuser(self.primary)?;
        su.batch_execute(&format!("CREATE DATABASE \"{name}\" OWNER {USER}"))?;
        Ok(())
    }

    /// `ALTER SYSTEM SET name = value` on node `i` and reloads its configuration. `value` is
    /// SQL (quote strings).
    pub fn alter_system(&self, i: usize, name: &str, value: &str) -> Result<()> {
        let mut su = self.superuser(i)?;
        su.batch_execute(&format!("ALTER SYSTEM SET {name} = {value}"))?;
        su.batch_execute("SELECT pg_reload_conf()")?;
        Ok(())
    }

    /// Waits until a new session on node `i` shows `expected` for setting `name` (a reload is
    /// asynchronous: the postmaster rereads the files, then signals its processes).
    pub fn wait_setting(&self, i: usize, name: &str, expected: &str) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            let value: String = self
                .superuser(i)?
                .query_one("SELECT current_setting($1)", &[&name])?
                .get(0);
            if value == expected {
                return Ok(());
            }
            if Instant::now() > deadline {
                return err(format!(
                    "{name} is still {value:?}, not {expected:?}, on {}",
                    self.nodes[i].name
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// Kills node `i` as a machine dies: SIGKILL to the postmaster and all its processes at
    /// once.
    pub fn kill(&mut self, i: usize) -> Result<()> {
        let Some(mut child) = self.nodes[i].child.take() else {
            return err(format!("{} is not running", self.nodes[i].name));
        };
        let pm = child.id();
        // Freeze the postmaster first, so that it neither starts new processes nor reacts to
        // its children's deaths while they are collected.
        let _ = Command::new("kill")
            .args(["-STOP", &pm.to_string()])
            .status();
        let mut pids = vec![pm.to_string()];
        pids.extend(children_of(pm).into_iter().map(|p| p.to_string()));
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(&pids)
            .stderr(Stdio::null())
            .status();
        child.wait()?;
        if i != self.primary && self.is_running(self.primary) {
            self.wait_detached(i)?;
        }
        Ok(())
    }

    /// Waits until the primary no longer lists node `i` in `pg_stat_replication` (its
    /// walsender has seen the connection drop), so that what follows a standby's death does
    /// not race with the primary noticing it.
    pub fn wait_detached(&self, i: usize) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            let listed: i64 = self
                .superuser(self.primary)?
                .query_one(
                    "SELECT count(*) FROM pg_stat_replication WHERE application_name = $1",
                    &[&self.nodes[i].name],
                )?
                .get(0);
            if listed == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return err(format!("the primary still lists {}", self.nodes[i].name));
            }
            thread::sleep(POLL);
        }
    }

    /// Stops node `i` cleanly (`pg_ctl stop -m fast`).
    pub fn stop(&mut self, i: usize) -> Result<()> {
        let Some(mut child) = self.nodes[i].child.take() else {
            return err(format!("{} is not running", self.nodes[i].name));
        };
        let mut c = self.command("pg_ctl");
        c.arg("stop")
            .arg("-D")
            .arg(&self.nodes[i].data)
            .args(["-m", "fast", "-w"]);
        self.run(c, "pg_ctl stop")?;
        child.wait()?;
        Ok(())
    }

    /// Starts a stopped or killed node again on its data directory, as what it was (a
    /// primary stays a primary: restarting the old primary after another was promoted makes
    /// two, which a deployment must never do — see [`Cluster::rebuild`]).
    pub fn restart(&mut self, i: usize) -> Result<()> {
        self.start_node(i)
    }

    /// Promotes standby `i` (`pg_ctl promote -w`); it becomes the cluster's primary.
    pub fn promote(&mut self, i: usize) -> Result<()> {
        let mut c = self.command("pg_ctl");
        c.arg("promote")
            .arg("-D")
            .arg(&self.nodes[i].data)
            .args(["-w", "-t", "60"]);
        self.run(c, &format!("pg_ctl promote of {}", self.nodes[i].name))?;
        self.primary = i;
        Ok(())
    }

    /// Points standby `i` at node `primary` (new `primary_conninfo`, reloaded): it follows the
    /// promoted server's new timeline.
    pub fn follow(&self, i: usize, primary: usize) -> Result<()> {
        let conninfo = self.replication_conninfo(i, primary);
        self.alter_system(i, "primary_conninfo", &format!("'{conninfo}'"))
    }

    /// The WAL position each running standby has received, by node.
    pub fn received_lsns(&self) -> Result<Vec<(usize, u64)>> {
        let mut out = Vec::new();
        for i in self.standbys() {
            if !self.is_running(i) {
                continue;
            }
            let row = self.superuser(i)?.query_one(
                "SELECT COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text",
                &[],
            )?;
            let text: Option<String> = row.get(0);
            out.push((i, text.as_deref().and_then(parse_lsn).unwrap_or(0)));
        }
        Ok(out)
    }

    /// What a failover manager does once the primary is known dead: wait until no standby
    /// streams from it any more, promote the running standby that has received the most WAL (with `ANY 1` any one standby may hold the last
    /// acknowledged commit, and the furthest one holds every other's too), point the other
    /// running standbys at it, and return it.
    pub fn failover(&mut self) -> Result<usize> {
        // WAL already sent may still be arriving: compare only once no standby streams.
        let deadline = Instant::now() + WAIT;
        for i in self.standbys() {
            while self.is_running(i) {
                let streaming: i64 = self
                    .superuser(i)?
                    .query_one(
                        "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'",
                        &[],
                    )?
                    .get(0);
                if streaming == 0 {
                    break;
                }
                if Instant::now() > deadline {
                    return err(format!("{} still streams", self.nodes[i].name));
                }
                thread::sleep(POLL);
            }
        }
        let lsns = self.received_lsns()?;
        let Some(&(best, _)) = lsns.iter().max_by_key(|(_, lsn)| *lsn) else {
            return err("no running standby to promote");
        };
        self.promote(best)?;
        for (i, _) in lsns {
            if i != best {
                self.follow(i, best)?;
            }
        }
        Ok(best)
    }

    /// Turns node `i` (stopped or killed) into a fresh standby of the current primary: its
    /// data directory is discarded and copied again (`pg_basebackup`), as an operator rejoins
    /// a failed old primary. Does not wait for it to stream.
    pub fn rebuild(&mut self, i: usize) -> Result<()> {
        if i == self.primary {
            return err(format!("{} is the primary", self.nodes[i].name));
        }
        if self.is_running(i) {
            self.kill(i)?;
        }
        fs::remove_dir_all(&self.nodes[i].data)?;
        self.basebackup(i, self.primary)?;
        self.start_node(i)
    }

    /// Waits until `n` standbys stream from the primary.
    pub fn wait_streaming(&self, n: usize) -> Result<()> {
        self.wait_replication(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
            n,
            "streaming",
        )
    }

    /// Waits until at least one standby is synchronous (`sync_state` `sync` or `quorum`).
    pub fn wait_sync(&self) -> Result<()> {
        self.wait_synchronous(1)
    }

    /// Waits until `n` standbys stream and are synchronous (`sync` or `quorum`; a standby
    /// that has just connected is `async` until it has caught up).
    pub fn wait_synchronous(&self, n: usize) -> Result<()> {
        self.wait_replication(
            "SELECT count(*) FROM pg_stat_replication \
             WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum')",
            n,
            "synchronous",
        )
    }

    fn wait_replication(&self, query: &str, n: usize, what: &str) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            let last = match self
                .superuser(self.primary)
                .and_then(|mut c| Ok(c.query_one(query, &[])?))
            {
                Ok(row) => {
                    let count: i64 = row.get(0);
                    if count >= n as i64 {
                        return Ok(());
                    }
                    format!("{count} {what}")
                }
                Err(e) => e.to_string(),
            };
            if Instant::now() > deadline {
                let logs: Vec<String> = (0..self.nodes.len())
                    .map(|i| format!("{}:\n{}", self.nodes[i].name, self.log_tail(i, 10)))
                    .collect();
                return err(format!(
                    "fewer than {n} standbys {what} after {WAIT:?} (last: {last})\n{}",
                    logs.join("\n")
                ));
            }
            thread::sleep(POLL);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            if self.is_running(i) {
                let _ = self.kill(i);
            }
        }
    }
}

/// `X/Y` (two hexadecimal halves) as a number.
fn parse_lsn(s: &str) -> Option<u64> {
    let (hi, lo) = s.split_once('/')?;
    Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
}

/// The processes whose parent is `pid` (from `/proc/*/stat`).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let child: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = fs::read_to_string(e.path().join("stat")).ok()?;
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after
        // the last `)`.
        let rest = &stat[stat.rfind(')')? + 1..];
        let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == pid).then_some(child)
    })
    .collect()
}

/// Ports free on 127.0.0.1 now (held together while choosing, so they differ).
fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<io::Result<_>>()?;
    Ok(listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<io::Result<_>>()?)
}

/// The uid and gid to run the servers as: the `postgres` account's when we are root.
fn owner() -> Result<Option<(u32, u32)>> {
    let uid = fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m))?;
    if uid != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd")?;
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() > 3 && f[0] == "postgres" {
            if let (Ok(u), Ok(g)) = (f[2].parse(), f[3].parse()) {
                return Ok(Some((u, g)));
            }
        }
    }
    err("running as root, and PostgreSQL refuses to: create a `postgres` account (Debian's postgresql package does) or run as another user")
}

/// The directory of `initdb`, `postgres`, `pg_ctl` and `pg_basebackup`.
/// Where PostgreSQL's server binaries are, or why they cannot be found: a test that needs a
/// cluster checks this first and skips, saying so, on a machine without PostgreSQL.
pub fn binaries() -> Result<PathBuf> {
    pg_bin()
}

fn pg_bin() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("URNA_PG_BIN") {
        let dir = PathBuf::from(dir);
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
        return err(format!("URNA_PG_BIN={} has no initdb", dir.display()));
    }
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Ok(bin);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    err("PostgreSQL's server binaries were not found: install them (Debian: apt-get install -y postgresql) or set URNA_PG_BIN to the directory holding initdb")
}

#[cfg(test)]
mod tests {
    use super::parse_lsn;

    #[test]
    fn lsn() {
        assert_eq!(parse_lsn("0/3000148"), Some(0x3000148));
        assert_eq!(parse_lsn("1/0"), Some(1 << 32));
        assert_eq!(parse_lsn("x"), None);
    }
}
