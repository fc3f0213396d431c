//! The keys that can sign for a whole election — the board's and each witness's — are sealed at
//! rest like every other role's (Argon2id + AEAD), opened unattended only through an explicit
//! passphrase file, and a key sealed with the test suites' cheap cost is refused for real use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{fails, ok, passphrase_file, URNA};

const ORIGIN: &str = "keys.urna.example/2026";

/// Runs `urna` with exactly the environment given (no passphrase, no KDF setting otherwise),
/// expecting it to fail at once; it is killed, failing the test, if it runs for a minute.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(URNA);
    cmd.args(args)
        .env_remove("URNA_PASSPHRASE")
        .env_remove("URNA_KDF_COST")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("urna {} ran instead of refusing", args.join(" "));
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

fn serve_args<'a>(key: &'a str, data: &'a str, pass: Option<&'a str>) -> Vec<&'a str> {
    let mut a = vec![
        "board",
        "serve",
        "--origin",
        ORIGIN,
        "--key",
        key,
        "--data",
        data,
        "--listen",
        "127.0.0.1:0",
    ];
    if let Some(p) = pass {
        a.extend(["--passphrase-file", p]);
    }
    a
}

#[test]
fn board_and_witness_keys_are_sealed_and_test_keys_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let out = support::urna(&[
        "board",
        "init",
        "--key",
        &d("board.key"),
        "--origin",
        ORIGIN,
    ]);
    assert!(out.status.success());
    // Made under URNA_KDF_COST=test: said loudly.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("WARNING") && err.contains("URNA_KDF_COST=test"),
        "{err}"
    );
    let public = support::field(&String::from_utf8_lossy(&out.stdout), "[keys] board):");
    let text = std::fs::read_to_string(d("board.key")).unwrap();
    assert!(text.starts_with("urna-sealed-v1\n"), "{text}");
    ok(&[
        "witness",
        "init",
        "--key",
        &d("w.key"),
        "--name",
        "w.example",
    ]);
    assert!(std::fs::read_to_string(d("w.key"))
        .unwrap()
        .starts_with("urna-sealed-v1\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d("board.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pass = passphrase_file(Path::new(&d("board.key")));
    let pass = pass.to_str().unwrap();
    let test = [("URNA_KDF_COST", "test")];

    // Unattended, nothing says where the passphrase is: refused, naming the options.
    let err = refused(&serve_args(&d("board.key"), &d("data"), None), &test);
    assert!(
        err.contains("--passphrase-file") && err.contains("URNA_PASSPHRASE"),
        "{err}"
    );
    // A key made with the test cost, outside a test suite: refused, loudly.
    let err = refused(&serve_args(&d("board.key"), &d("data"), Some(pass)), &[]);
    assert!(err.contains("test-only key-derivation cost"), "{err}");
    let err = refused(
        &[
            "witness",
            "serve",
            "--key",
            &d("w.key"),
            "--name",
            "w.example",
            "--data",
            &d("wd"),
            "--log",
            "x+00000000+AQ==",
            "--passphrase-file",
            pass,
        ],
        &[],
    );
    assert!(err.contains("test-only key-derivation cost"), "{err}");
    // URNA_KDF_COST takes no other value.
    let err = refused(
        &["authority", "init", "--key", &d("a.key")],
        &[("URNA_KDF_COST", "fast"), ("URNA_PASSPHRASE", "x")],
    );
    assert!(
        err.contains("URNA_KDF_COST") && err.contains("\"test\""),
        "{err}"
    );
    // A passphrase file others can read is refused; so is the wrong passphrase.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(d("open.pass"), "test passphrase\n").unwrap();
        std::fs::set_permissions(d("open.pass"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = refused(
            &serve_args(&d("board.key"), &d("data"), Some(&d("open.pass"))),
            &test,
        );
        assert!(err.contains("readable only by its owner"), "{err}");
    }
    let wrong = tmp.path().join("wrong.pass");
    std::fs::write(&wrong, "not it\n").unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&wrong, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let err = refused(
        &serve_args(&d("board.key"), &d("data"), Some(wrong.to_str().unwrap())),
        &test,
    );
    assert!(err.contains("wrong passphrase"), "{err}");

    // A plain key (as init wrote before) is refused with the way out, which seals it in place.
    std::fs::write(d("plain.key"), format!("{}\n", "ab".repeat(32))).unwrap();
    let err = refused(&serve_args(&d("plain.key"), &d("data"), Some(pass)), &test);
    assert!(
        err.contains("unsealed") && err.contains("urna seal-key"),
        "{err}"
    );
    assert!(ok(&["seal-key", "--key", &d("plain.key")]).contains("is sealed"));
    assert!(std::fs::read_to_string(d("plain.key"))
        .unwrap()
        .starts_with("urna-sealed-v1\n"));
    assert!(fails(&["seal-key", "--key", &d("plain.key")]).contains("not a 32-byte hex key"));

    // With the passphrase file (and in a test suite) the board serves under its key.
    let board = support::Board::start_with_key_file(tmp.path(), Path::new(&d("board.key")), ORIGIN);
    let info: serde_json::Value = serde_json::from_str(
        &ureq::get(&format!("{}/info", board.url))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info["board_key"], public);
}
