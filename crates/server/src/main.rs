//! The `tiembed` server binary: flags and configuration, logging, the
//! engine, then `tiembed_server::run` until SIGINT/SIGTERM.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use tiembed_server::config::{self, CliOverrides};

/// A MySQL-protocol database server with TiDB's vector search and Auto
/// Embedding SQL.
#[derive(Debug, Parser)]
#[command(name = "tiembed", version)]
struct Cli {
    /// Address to listen on [default: 127.0.0.1:4000]
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// Directory for the database files [default: ./data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Configuration file (format: config/tiembed.toml)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of local embedding models [default: ./models]
    #[arg(long, value_name = "DIR")]
    models_dir: Option<PathBuf>,
    /// Log filter, e.g. `info` or `info,tiembed_server=debug` [default: info]
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: Vec<(String, String)> = std::env::vars().collect();
    let overrides = CliOverrides {
        listen: cli.listen,
        data_dir: cli.data_dir,
        models_dir: cli.models_dir,
        log_level: cli.log_level,
    };
    let config = match config::load(cli.config.as_deref(), &env, &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tiembed: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal, not in log files or `docker logs`.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // candle sizes its matmul split and its own pool from the environment;
    // make them the in-process model's thread count while this is still
    // the only thread (setting the environment later would be unsound).
    tiembed_embed::providers::local::init_process_threads(
        config.engine_config().embed.local_threads,
    );
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tiembed: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("tiembed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: config::Config) -> Result<(), String> {
    let engine = tiembed_executor::Engine::open(config.engine_config())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        %addr,
        data_dir = %config.data_dir.as_ref().map_or("(in memory)".into(), |d| d.display().to_string()),
        version = %config.server.version,
        "tiembed listening"
    );
    tiembed_server::run(listener, engine, config.server, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// SIGINT (Ctrl-C) or SIGTERM (docker stop, systemd).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested");
}
