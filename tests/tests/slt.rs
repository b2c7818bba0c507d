//! Runs every `tests/slt/*.slt` file over the wire against a fresh
//! in-memory server (one server per file, so files are independent).

use tiembed_tests::slt::MysqlDb;
use tiembed_tests::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictest_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("slt dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    let filter = std::env::var("SLT_FILTER").unwrap_or_default();
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if !name.contains(&filter) {
            continue;
        }
        if name.contains("minilm") && !tiembed_tests::minilm_available() {
            if std::env::var("TIEMBED_REQUIRE_MODELS").is_ok_and(|v| v == "1") {
                failures.push(format!(
                    "{name}: the MiniLM weights are missing (run scripts/fetch-models.sh)"
                ));
            } else {
                eprintln!("skipping {name}: MiniLM weights not fetched");
            }
            continue;
        }
        let server = TestServer::start().await;
        let url = server.url("test");
        let mut runner = sqllogictest::Runner::new(|| {
            let url = url.clone();
            async move {
                let conn = mysql_async::Conn::from_url(url)
                    .await
                    .map_err(|e| tiembed_tests::slt::SltError(e.to_string()))?;
                Ok(MysqlDb { conn })
            }
        });
        ran += 1;
        if let Err(e) = runner.run_file_async(&file).await {
            failures.push(format!("{name}: {e}"));
        }
        server.stop().await;
    }
    assert!(ran > 0 || !filter.is_empty(), "no .slt files ran");
    assert!(
        failures.is_empty(),
        "{} slt file(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
