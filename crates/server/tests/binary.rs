//! The `tiembed` binary: flags, configuration errors, and graceful
//! shutdown on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn tiembed() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tiembed"));
    // The test environment must not leak into the configuration.
    for (k, _) in std::env::vars() {
        if k.starts_with("TIEMBED_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn help_lists_the_documented_flags() {
    let out = tiembed().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--data-dir",
        "--config",
        "--models-dir",
        "--log-level",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn configuration_errors_exit_with_status_2() {
    let out = tiembed()
        .args(["--config", "/nonexistent/tiembed.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file"));

    let out = tiembed()
        .env("TIEMBED_VERSION", "5.5.5-10.11.6-MariaDB")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must not contain \"MariaDB\""));

    let out = tiembed().args(["--listen", "no-port"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.listen"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tiembed()
        .args(["--listen", "127.0.0.1:0", "--log-level", "info"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The log line `tiembed listening addr=127.0.0.1:PORT` gives the port.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let port = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "tiembed exited before listening"
        );
        if let Some(rest) = line.split("addr=").nth(1) {
            let addr = rest.split_whitespace().next().unwrap();
            break addr.rsplit_once(':').unwrap().1.parse::<u16>().unwrap();
        }
    };
    let mut c = common::Client::connect(port).await;
    assert!(matches!(c.query("SELECT 1").await, common::Reply::Rows(_)));

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(c.is_closed().await);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tiembed did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}
