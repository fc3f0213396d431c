//! Runs the built `urna` binary as separate processes, as real parties would.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use urna_crypto::sign::SigningKey;

pub const URNA: &str = env!("CARGO_BIN_EXE_urna");

/// Every test key's passphrase.
pub const PASSPHRASE: &str = "test passphrase";

/// A passphrase file beside `key`, readable only by its owner, for unattended servers.
pub fn passphrase_file(key: &Path) -> PathBuf {
    let path = key.with_extension("pass");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    std::io::Write::write_all(
        &mut opts.open(&path).unwrap(),
        format!("{PASSPHRASE}\n").as_bytes(),
    )
    .unwrap();
    path
}

/// A free loopback port (bound and released: another process could take it, rarely).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Runs `urna` with the given arguments (test passphrase and a cheap KDF in the environment).
pub fn urna(args: &[&str]) -> std::process::Output {
    Command::new(URNA)
        .args(args)
        .env("URNA_PASSPHRASE", PASSPHRASE)
        .env("URNA_KDF_COST", "test")
        // English unless a test asks otherwise (`urna` picks the voter's language from these).
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs `urna`, asserting success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = urna(args);
    assert!(
        out.status.success(),
        "urna {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `urna`, asserting failure; returns stdout and stderr together.
pub fn fails(args: &[&str]) -> String {
    let out = urna(args);
    assert!(!out.status.success(), "urna {} succeeded", args.join(" "));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Spawns `urna` in the background (test passphrase and KDF cost).
pub fn spawn(args: &[&str]) -> Child {
    Command::new(URNA)
        .args(args)
        .env("URNA_PASSPHRASE", PASSPHRASE)
        .env("URNA_KDF_COST", "test")
        // English unless a test asks otherwise (`urna` picks the voter's language from these).
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A board process serving one election from a data directory.
pub struct Board {
    pub url: String,
    port: u16,
    key: PathBuf,
    data: PathBuf,
    origin: String,
    /// More arguments for `urna board serve`, used from the next (re)start on.
    pub extra: Vec<String>,
    child: Option<Child>,
}

impl Board {
    /// Serves `key` (sealed into `<dir>/board.key` with the test passphrase and test cost).
    pub fn start(dir: &Path, key: &SigningKey, origin: &str) -> Board {
        Board::start_with(dir, key, origin, &[])
    }

    /// [`Board::start`] with more arguments for `urna board serve`.
    pub fn start_with(dir: &Path, key: &SigningKey, origin: &str, extra: &[&str]) -> Board {
        let key_path = dir.join("board.key");
        let sealed = urna_crypto::keyfile::seal(
            key.seed(),
            PASSPHRASE.as_bytes(),
            urna_crypto::keyfile::Cost::TEST,
            &mut rand::rngs::OsRng,
        )
        .unwrap();
        std::fs::write(&key_path, sealed).unwrap();
        let mut b = Board::new(dir, &key_path, origin);
        b.extra = extra.iter().map(|s| s.to_string()).collect();
        b.restart();
        b
    }

    /// Serves from `<dir>/board-data` with a key file made by `urna board init`, unattended:
    /// the passphrase in a file (mode 0600) given with `--passphrase-file`.
    pub fn start_with_key_file(dir: &Path, key_path: &Path, origin: &str) -> Board {
        let mut b = Board::new(dir, key_path, origin);
        b.restart();
        b
    }

    /// Not started yet.
    fn new(dir: &Path, key_path: &Path, origin: &str) -> Board {
        let port = free_port();
        Board {
            url: format!("http://127.0.0.1:{port}"),
            port,
            key: key_path.to_path_buf(),
            data: dir.join("board-data"),
            origin: origin.to_string(),
            extra: Vec::new(),
            child: None,
        }
    }

    /// Starts the process (again) and waits until it answers.
    pub fn restart(&mut self) {
        let child = Command::new(URNA)
            .args(["board", "serve", "--origin", &self.origin, "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--key")
            .arg(&self.key)
            .arg("--passphrase-file")
            .arg(passphrase_file(&self.key))
            .env("URNA_KDF_COST", "test")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8")
            // English unless a test asks otherwise (`urna` picks the voter's language from these).
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8")
            .arg("--data")
            .arg(&self.data)
            .args([
                "--rate-per-client",
                "1000000",
                "--burst-per-client",
                "1000000",
            ])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!("the board exited at start: {status}");
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the board did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `urna board serve` on this board's data directory expecting it to refuse to start
    /// (it is killed, and the test fails, if it is still running after a minute); returns what
    /// it printed.
    pub fn refuses_to_start(&self, extra: &[&str]) -> String {
        let mut child = Command::new(URNA)
            .args(["board", "serve", "--origin", &self.origin, "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--key")
            .arg(&self.key)
            .arg("--passphrase-file")
            .arg(passphrase_file(&self.key))
            .env("URNA_KDF_COST", "test")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8")
            // English unless a test asks otherwise (`urna` picks the voter's language from these).
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8")
            .arg("--data")
            .arg(&self.data)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("the board started although it should have refused");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success());
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// The data directory.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The value after `prefix` on the first line that has it (trimmed, quotes removed).
pub fn field(text: &str, prefix: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.split_once(prefix)
                .map(|(_, v)| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("no {prefix:?} in {text}"))
}

/// Polls `f` every 50 ms until it holds, for at most a minute.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every role's keys made by its own `init` in `dir`: board, authority, registrar and
/// `trustees` trustees (`t1.key`, …).
pub struct Roles {
    pub board_pub: String,
    /// The board's checkpoint verifier key, for witnesses.
    pub vkey: String,
    authority_pub: String,
    registrar_pub: String,
    trustees_toml: String,
}

impl Roles {
    pub fn init(dir: &Path, origin: &str, trustees: usize) -> Roles {
        let d = |name: &str| dir.join(name).to_str().unwrap_or_default().to_string();
        let board = ok(&[
            "board",
            "init",
            "--key",
            &d("board.key"),
            "--origin",
            origin,
        ]);
        let authority = ok(&["authority", "init", "--key", &d("authority.key")]);
        let registrar = ok(&["registrar", "init", "--key", &d("registrar.key")]);
        let mut trustees_toml = String::new();
        for i in 1..=trustees {
            let out = ok(&["trustee", "init", "--key", &d(&format!("t{i}.key"))]);
            trustees_toml.push_str(&format!(
                "\n[[trustees]]\nname = \"T{i}\"\nsigning_key = \"{}\"\nceremony_key = \"{}\"\n",
                field(&out, "signing_key ="),
                field(&out, "ceremony_key =")
            ));
        }
        Roles {
            board_pub: field(&board, "[keys] board):"),
            vkey: field(&board, "checkpoint verifier key:"),
            authority_pub: field(&authority, "[keys] authority):"),
            registrar_pub: field(&registrar, "[keys] registrar):"),
            trustees_toml,
        }
    }

    /// A manifest: `head` holds top-level settings (threshold, quorum…), `tables` the
    /// witnesses, contests and styles.
    pub fn manifest(&self, origin: &str, head: &str, tables: &str) -> String {
        format!(
            "election_id = \"{origin}\"\ntitle = \"Test election\"\n{head}\n\n[keys]\nauthority = \"{}\"\nregistrar = \"{}\"\nboard = \"{}\"\n{}\n{tables}",
            self.authority_pub, self.registrar_pub, self.board_pub, self.trustees_toml
        )
    }
}

/// Runs the key ceremony with `n` trustee processes at once (`t1.key`…) and waits for them.
pub fn ceremony(dir: &Path, url: &str, n: usize) {
    let running: Vec<Child> = (1..=n)
        .map(|i| {
            let key = dir.join(format!("t{i}.key"));
            spawn(&[
                "trustee",
                "ceremony",
                "--board",
                url,
                "--key",
                key.to_str().unwrap_or_default(),
            ])
        })
        .collect();
    for c in running {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Roles {
    /// Writes the manifest, starts the board from `dir` and posts `Setup` as the authority.
    pub fn serve(&self, dir: &Path, origin: &str, manifest: &str) -> Board {
        let path = dir.join("manifest.toml");
        std::fs::write(&path, manifest).unwrap();
        let board = Board::start_with_key_file(dir, &dir.join("board.key"), origin);
        let key = dir.join("authority.key");
        ok(&[
            "authority",
            "setup",
            "--manifest",
            path.to_str().unwrap_or_default(),
            "--board",
            &board.url,
            "--key",
            key.to_str().unwrap_or_default(),
        ]);
        board
    }
}

/// Issues credentials for the CSV's voters into `<dir>/creds` and opens the polls.
pub fn register_and_open(dir: &Path, url: &str, csv: &str) {
    let d = |name: &str| dir.join(name).to_str().unwrap_or_default().to_string();
    std::fs::write(d("voters.csv"), csv).unwrap();
    ok(&[
        "registrar",
        "credentials",
        "--voters",
        &d("voters.csv"),
        "--out",
        &d("creds"),
        "--board",
        url,
        "--key",
        &d("registrar.key"),
    ]);
    ok(&[
        "authority",
        "open",
        "--board",
        url,
        "--key",
        &d("authority.key"),
    ]);
}

/// Runs a shell command line on a pseudo-terminal (util-linux `script`), typing `input`;
/// returns what the terminal showed, or `None` where `script` is not installed.
pub fn on_a_terminal(command: &str, input: &str) -> Option<String> {
    use std::io::Write;
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", command, "/dev/null"])
        .env("URNA_PASSPHRASE", PASSPHRASE)
        .env("URNA_KDF_COST", "test")
        // English unless a test asks otherwise (`urna` picks the voter's language from these).
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    // One answer at a time, as a person would type them after each prompt.
    for line in input.split_inclusive('\n') {
        std::thread::sleep(Duration::from_millis(300));
        stdin.write_all(line.as_bytes()).ok()?;
    }
    std::thread::sleep(Duration::from_millis(300));
    drop(stdin);
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "on a terminal, `{command}` failed:\n{text}"
    );
    Some(text)
}

/// A hostile front for an honest board: it serves, at `/checkpoint/cosigned`, an older
/// checkpoint the witnesses really did cosign, and its latest checkpoint without the
/// cosignatures collected for it, passing everything else through. A board doing this itself
/// would look the same to clients; the proxy adds no such mode to the product.
pub struct StaleProxy {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Clone)]
struct Upstream {
    url: String,
    stale: Arc<Mutex<String>>,
}

async fn rewrite(
    axum::extract::State(up): axum::extract::State<Upstream>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let method = req.method().clone();
    if path == "/checkpoint/cosigned" {
        return up.stale.lock().unwrap().clone().into_response();
    }
    if path.starts_with("/receipt/") && path.contains("cosigned=true") {
        return (axum::http::StatusCode::NOT_FOUND, "").into_response();
    }
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let url = format!("{}{path}", up.url);
    let (status, ctype, mut bytes) = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut r = if method == axum::http::Method::POST {
            agent.post(&url).send(&body[..]).unwrap()
        } else {
            agent.get(&url).call().unwrap()
        };
        let ctype = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = r
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap();
        (r.status().as_u16(), ctype, bytes)
    })
    .await
    .unwrap();
    if path == "/checkpoint" {
        // Only the board's own signature line: nothing cosigned about the latest.
        let text = String::from_utf8(bytes).unwrap();
        let (body, sigs) = text.split_once("\n\n").unwrap();
        bytes = format!("{body}\n\n{}\n", sigs.lines().next().unwrap()).into_bytes();
    }
    (
        axum::http::StatusCode::from_u16(status).unwrap(),
        [(axum::http::header::CONTENT_TYPE, ctype)],
        bytes,
    )
        .into_response()
}

impl StaleProxy {
    pub fn start(upstream: &str, stale: &str) -> StaleProxy {
        let port = free_port();
        let up = Upstream {
            url: upstream.to_string(),
            stale: Arc::new(Mutex::new(stale.to_string())),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .unwrap();
                let app = axum::Router::new().fallback(rewrite).with_state(up);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let url = format!("http://127.0.0.1:{port}");
        wait_until("the proxy to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        StaleProxy {
            url,
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for StaleProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether the browser tests can run: the booth's npm packages must be installed (a missing
/// one fails the test), and without Debian's chromium the test says so and is skipped.
pub fn browser_ready(web: &Path) -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        web.join("node_modules/playwright-core").exists(),
        "the booth's npm packages are not installed: run `npm ci --prefix web` (.ci/run does)"
    );
    if !Path::new(&chromium).exists() {
        eprintln!("skipped: needs {chromium} (Debian's chromium; .ci/run installs it)");
        return false;
    }
    true
}
