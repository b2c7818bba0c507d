//! Configuration: `config/tiembed.toml` format, overridden by `TIEMBED_*`
//! environment variables, overridden by command-line flags.
//!
//! The file is read into a "raw" structure where everything is optional,
//! the layers are merged, and only then is the result validated and turned
//! into [`Config`], so every error names the setting it is about.

pub use crate::auth::AuthPlugin;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The version string's default: a TiDB Cloud one, so that drivers and
/// ORMs take their MySQL 8 / TiDB code paths.
pub const DEFAULT_VERSION: &str = "8.0.11-TiDB-v8.5.3-serverless";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4000";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_MODELS_DIR: &str = "./models";
/// 64 MiB, MySQL 8's and TiDB's default `max_allowed_packet`.
pub const DEFAULT_MAX_ALLOWED_PACKET: usize = 64 << 20;
pub const DEFAULT_MAX_CONNECTIONS: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("invalid setting {setting}: {message}")]
    Invalid {
        setting: &'static str,
        message: String,
    },
}

fn invalid(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        message: message.into(),
    }
}

/// One account allowed to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// Plain text; empty means no password (TiDB's default root).
    pub password: String,
    /// The account's authentication plugin; `None` follows
    /// `auth.default_plugin`.
    pub plugin: Option<AuthPlugin>,
}

impl User {
    /// An account that uses the server's default plugin.
    pub fn new(name: impl Into<String>, password: impl Into<String>) -> User {
        User {
            name: name.into(),
            password: password.into(),
            plugin: None,
        }
    }
}

/// Where the server's TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSettings {
    /// PEM files: the certificate chain (server certificate first) and its
    /// private key.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate for localhost, generated on first start
    /// and kept in `dir` (`<data_dir>/tls`); `None` (in-memory server):
    /// a new one on every start.
    AutoGenerate { dir: Option<PathBuf> },
}

/// What the wire front end needs; `server::run` takes this.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Sent in the handshake; never contains `MariaDB`.
    pub version: String,
    pub max_connections: usize,
    /// Larger client packets are refused with ERROR 1153.
    pub max_allowed_packet: usize,
    /// A client that has not finished logging in by then is disconnected.
    pub handshake_timeout: Duration,
    /// How long shutdown waits for running statements before cutting them off.
    pub shutdown_timeout: Duration,
    pub users: Vec<User>,
    /// Plugin announced in the greeting and used by accounts without one.
    pub default_auth_plugin: AuthPlugin,
    /// `None`: CLIENT_SSL is not offered.
    pub tls: Option<TlsSettings>,
    /// Refuse logins over plain TCP (ERROR 3159), as MySQL's
    /// `require_secure_transport`.
    pub require_secure_transport: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            version: DEFAULT_VERSION.into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_allowed_packet: DEFAULT_MAX_ALLOWED_PACKET,
            handshake_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            users: vec![User::new("root", "")],
            default_auth_plugin: AuthPlugin::NativePassword,
            tls: None,
            require_secure_transport: false,
        }
    }
}

/// Embedding settings handed to the engine's registry; `None` keeps the
/// registry's own default.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EmbedSettings {
    pub models_dir: PathBuf,
    pub hf_cache_dir: Option<PathBuf>,
    pub huggingface_base_url: Option<String>,
    pub openai_base_url: Option<String>,
    pub request_timeout: Option<Duration>,
    pub statement_deadline: Option<Duration>,
    pub max_attempts: Option<u32>,
    pub batch_size: Option<usize>,
    pub cache_entries: Option<usize>,
    pub local_threads: Option<usize>,
}

/// The whole validated configuration of the `tiembed` binary.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `HOST:PORT`, resolved when binding.
    pub listen: String,
    /// `None`: keep everything in memory (nothing survives a restart).
    pub data_dir: Option<PathBuf>,
    pub log_level: String,
    pub server: ServerConfig,
    pub embed: EmbedSettings,
}

impl Config {
    pub fn engine_config(&self) -> tiembed_executor::EngineConfig {
        let e = &self.embed;
        let mut embed = tiembed_embed::RegistryConfig {
            models_dir: e.models_dir.clone(),
            ..Default::default()
        };
        if let Some(v) = &e.hf_cache_dir {
            embed.hf_cache_dir = Some(v.clone());
        }
        if let Some(v) = &e.huggingface_base_url {
            embed.huggingface_base_url = v.clone();
        }
        if let Some(v) = &e.openai_base_url {
            embed.openai_base_url = v.clone();
        }
        if let Some(v) = e.request_timeout {
            embed.request_timeout = v;
        }
        if let Some(v) = e.statement_deadline {
            embed.statement_deadline = v;
        }
        if let Some(v) = e.max_attempts {
            embed.max_attempts = v;
        }
        if let Some(v) = e.batch_size {
            embed.batch_size = v;
        }
        if let Some(v) = e.cache_entries {
            embed.cache_entries = v;
        }
        if let Some(v) = e.local_threads {
            embed.local_threads = v;
        }
        tiembed_executor::EngineConfig {
            data_dir: self.data_dir.clone(),
            embed,
            version: self.server.version.clone(),
            port: self.listen_port(),
        }
    }

    /// The port of `listen` (validated to be there); `@@port` reports it.
    pub fn listen_port(&self) -> u16 {
        self.listen
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(0)
    }
}

/// Command-line overrides (the highest layer).
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub models_dir: Option<PathBuf>,
    pub log_level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawConfig {
    server: RawServer,
    storage: RawStorage,
    embedding: RawEmbedding,
    log: RawLog,
    tls: RawTls,
    auth: RawAuth,
    users: Option<Vec<RawUser>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawTls {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    auto_generate: Option<bool>,
    require_secure_transport: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAuth {
    default_plugin: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawServer {
    listen: Option<String>,
    version: Option<String>,
    max_connections: Option<u64>,
    max_allowed_packet: Option<u64>,
    handshake_timeout_secs: Option<f64>,
    shutdown_timeout_secs: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawStorage {
    data_dir: Option<PathBuf>,
    in_memory: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawEmbedding {
    models_dir: Option<PathBuf>,
    hf_cache_dir: Option<PathBuf>,
    huggingface_base_url: Option<String>,
    openai_base_url: Option<String>,
    request_timeout_secs: Option<f64>,
    statement_deadline_secs: Option<f64>,
    max_attempts: Option<u32>,
    batch_size: Option<u64>,
    cache_entries: Option<u64>,
    local_threads: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLog {
    level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    plugin: Option<String>,
}

/// Loads the configuration. `file` is the `--config` flag; without it,
/// `TIEMBED_CONFIG` names the file, and without that the built-in defaults
/// (the same values `config/tiembed.toml` documents) apply. `env` is the
/// process environment (passed in so tests need not touch it).
pub fn load(
    file: Option<&Path>,
    env: &[(String, String)],
    cli: &CliOverrides,
) -> Result<Config, ConfigError> {
    let env_file = env_var(env, "TIEMBED_CONFIG").map(PathBuf::from);
    let mut raw = match file.map(Path::to_path_buf).or(env_file) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            parse_toml(&text).map_err(|message| ConfigError::Parse { path, message })?
        }
        None => RawConfig::default(),
    };
    apply_env(&mut raw, env)?;
    apply_cli(&mut raw, cli);
    validate(raw)
}

/// Parses TOML text in the config-file format and validates it alone
/// (no environment, no flags).
pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
    let raw = parse_toml(text).map_err(|message| ConfigError::Parse {
        path: PathBuf::from("<string>"),
        message,
    })?;
    validate(raw)
}

fn parse_toml(text: &str) -> Result<RawConfig, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

fn env_var<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn apply_env(raw: &mut RawConfig, env: &[(String, String)]) -> Result<(), ConfigError> {
    fn num<T: std::str::FromStr>(var: &str, v: &str) -> Result<T, ConfigError> {
        v.trim().parse().map_err(|_| ConfigError::Env {
            var: var.into(),
            message: format!("not a number: {v:?}"),
        })
    }
    fn boolean(var: &str, v: &str) -> Result<bool, ConfigError> {
        match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::Env {
                var: var.into(),
                message: format!("not a boolean: {v:?}"),
            }),
        }
    }
    let get = |name: &str| env_var(env, name);
    if let Some(v) = get("TIEMBED_LISTEN") {
        raw.server.listen = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_VERSION") {
        raw.server.version = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_MAX_CONNECTIONS") {
        raw.server.max_connections = Some(num("TIEMBED_MAX_CONNECTIONS", v)?);
    }
    if let Some(v) = get("TIEMBED_MAX_ALLOWED_PACKET") {
        raw.server.max_allowed_packet = Some(num("TIEMBED_MAX_ALLOWED_PACKET", v)?);
    }
    if let Some(v) = get("TIEMBED_DATA_DIR") {
        raw.storage.data_dir = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_IN_MEMORY") {
        raw.storage.in_memory = Some(boolean("TIEMBED_IN_MEMORY", v)?);
    }
    if let Some(v) = get("TIEMBED_MODELS_DIR") {
        raw.embedding.models_dir = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_HF_CACHE_DIR") {
        raw.embedding.hf_cache_dir = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_HUGGINGFACE_BASE_URL") {
        raw.embedding.huggingface_base_url = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_OPENAI_BASE_URL") {
        raw.embedding.openai_base_url = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_LOG") {
        raw.log.level = Some(v.into());
    } else if let Some(v) = get("RUST_LOG") {
        // The conventional variable works too, below TIEMBED_LOG.
        raw.log.level = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_TLS_CERT") {
        raw.tls.cert = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_TLS_KEY") {
        raw.tls.key = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_TLS_AUTO_GENERATE") {
        raw.tls.auto_generate = Some(boolean("TIEMBED_TLS_AUTO_GENERATE", v)?);
    }
    if let Some(v) = get("TIEMBED_REQUIRE_SECURE_TRANSPORT") {
        raw.tls.require_secure_transport = Some(boolean("TIEMBED_REQUIRE_SECURE_TRANSPORT", v)?);
    }
    if let Some(v) = get("TIEMBED_DEFAULT_AUTH_PLUGIN") {
        raw.auth.default_plugin = Some(v.into());
    }
    if let Some(v) = get("TIEMBED_ROOT_PASSWORD") {
        let users = raw.users.get_or_insert_with(|| {
            vec![RawUser {
                name: "root".into(),
                password: String::new(),
                plugin: None,
            }]
        });
        match users.iter_mut().find(|u| u.name == "root") {
            Some(root) => root.password = v.into(),
            None => users.push(RawUser {
                name: "root".into(),
                password: v.into(),
                plugin: None,
            }),
        }
    }
    Ok(())
}

fn apply_cli(raw: &mut RawConfig, cli: &CliOverrides) {
    if let Some(v) = &cli.listen {
        raw.server.listen = Some(v.clone());
    }
    if let Some(v) = &cli.data_dir {
        raw.storage.data_dir = Some(v.clone());
        // Naming a directory on the command line means "store it there".
        raw.storage.in_memory = Some(false);
    }
    if let Some(v) = &cli.models_dir {
        raw.embedding.models_dir = Some(v.clone());
    }
    if let Some(v) = &cli.log_level {
        raw.log.level = Some(v.clone());
    }
}

fn seconds(
    setting: &'static str,
    v: Option<f64>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match v {
        None => Ok(default),
        Some(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        Some(s) => Err(invalid(
            setting,
            format!("must be a positive number of seconds, got {s}"),
        )),
    }
}

fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let defaults = ServerConfig::default();

    let listen = raw.server.listen.unwrap_or_else(|| DEFAULT_LISTEN.into());
    validate_listen(&listen)?;

    let version = raw.server.version.unwrap_or_else(|| DEFAULT_VERSION.into());
    validate_version(&version)?;

    let max_connections = match raw.server.max_connections {
        None => defaults.max_connections,
        Some(n) if (1..=100_000).contains(&n) => n as usize,
        Some(n) => {
            return Err(invalid(
                "server.max_connections",
                format!("must be 1..=100000, got {n}"),
            ))
        }
    };
    let max_allowed_packet = match raw.server.max_allowed_packet {
        None => defaults.max_allowed_packet,
        Some(n) if (1024..=1 << 30).contains(&n) => n as usize,
        Some(n) => {
            return Err(invalid(
                "server.max_allowed_packet",
                format!("must be 1024..=1073741824, got {n}"),
            ))
        }
    };
    let handshake_timeout = seconds(
        "server.handshake_timeout_secs",
        raw.server.handshake_timeout_secs,
        defaults.handshake_timeout,
    )?;
    let shutdown_timeout = seconds(
        "server.shutdown_timeout_secs",
        raw.server.shutdown_timeout_secs,
        defaults.shutdown_timeout,
    )?;

    let users = match raw.users {
        None => defaults.users,
        Some(list) => {
            if list.is_empty() {
                return Err(invalid("users", "at least one user is required"));
            }
            let mut users: Vec<User> = Vec::with_capacity(list.len());
            for u in list {
                if u.name.is_empty() || u.name.len() > 32 || u.name.contains('\0') {
                    return Err(invalid(
                        "users.name",
                        format!("{:?} is not a valid user name (1-32 characters)", u.name),
                    ));
                }
                if users.iter().any(|x| x.name == u.name) {
                    return Err(invalid(
                        "users.name",
                        format!("user {:?} is listed twice", u.name),
                    ));
                }
                let plugin = u
                    .plugin
                    .as_deref()
                    .map(|p| plugin_named("users.plugin", p))
                    .transpose()?;
                users.push(User {
                    name: u.name,
                    password: u.password,
                    plugin,
                });
            }
            users
        }
    };

    let data_dir = if raw.storage.in_memory.unwrap_or(false) {
        None
    } else {
        let dir = raw
            .storage
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        if dir.as_os_str().is_empty() {
            return Err(invalid(
                "storage.data_dir",
                "must not be empty (set storage.in_memory = true for no storage)",
            ));
        }
        Some(dir)
    };

    let default_auth_plugin = match raw.auth.default_plugin.as_deref() {
        None => defaults.default_auth_plugin,
        Some(p) => plugin_named("auth.default_plugin", p)?,
    };
    let tls = validate_tls(&raw.tls, data_dir.as_deref())?;
    let require_secure_transport = raw.tls.require_secure_transport.unwrap_or(false);
    if require_secure_transport && tls.is_none() {
        return Err(invalid(
            "tls.require_secure_transport",
            "needs TLS (tls.cert and tls.key, or tls.auto_generate = true)",
        ));
    }

    let log_level = raw.log.level.unwrap_or_else(|| "info".into());
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log_level) {
        return Err(invalid("log.level", format!("{log_level:?}: {e}")));
    }

    let e = raw.embedding;
    for (setting, url) in [
        ("embedding.huggingface_base_url", &e.huggingface_base_url),
        ("embedding.openai_base_url", &e.openai_base_url),
    ] {
        if let Some(u) = url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(invalid(setting, format!("{u:?} is not an http(s) URL")));
            }
        }
    }
    let positive = |setting: &'static str, v: Option<u64>| -> Result<Option<usize>, ConfigError> {
        match v {
            Some(0) => Err(invalid(setting, "must be at least 1")),
            v => Ok(v.map(|n| n as usize)),
        }
    };
    let embed = EmbedSettings {
        models_dir: e
            .models_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_MODELS_DIR)),
        hf_cache_dir: e.hf_cache_dir,
        huggingface_base_url: e.huggingface_base_url,
        openai_base_url: e.openai_base_url,
        request_timeout: e
            .request_timeout_secs
            .map(|s| seconds("embedding.request_timeout_secs", Some(s), Duration::ZERO))
            .transpose()?,
        statement_deadline: e
            .statement_deadline_secs
            .map(|s| seconds("embedding.statement_deadline_secs", Some(s), Duration::ZERO))
            .transpose()?,
        max_attempts: match e.max_attempts {
            Some(0) => return Err(invalid("embedding.max_attempts", "must be at least 1")),
            v => v,
        },
        batch_size: positive("embedding.batch_size", e.batch_size)?,
        cache_entries: e.cache_entries.map(|n| n as usize),
        local_threads: positive("embedding.local_threads", e.local_threads)?,
    };

    Ok(Config {
        listen,
        data_dir,
        log_level,
        server: ServerConfig {
            version,
            max_connections,
            max_allowed_packet,
            handshake_timeout,
            shutdown_timeout,
            users,
            default_auth_plugin,
            tls,
            require_secure_transport,
        },
        embed,
    })
}

fn plugin_named(setting: &'static str, name: &str) -> Result<AuthPlugin, ConfigError> {
    AuthPlugin::from_name(name).ok_or_else(|| {
        invalid(
            setting,
            format!("{name:?} is not mysql_native_password or caching_sha2_password"),
        )
    })
}

fn validate_tls(raw: &RawTls, data_dir: Option<&Path>) -> Result<Option<TlsSettings>, ConfigError> {
    let empty = |p: &Option<PathBuf>| p.as_ref().is_none_or(|p| p.as_os_str().is_empty());
    match (
        empty(&raw.cert),
        empty(&raw.key),
        raw.auto_generate.unwrap_or(false),
    ) {
        (true, true, false) => Ok(None),
        (true, true, true) => Ok(Some(TlsSettings::AutoGenerate {
            dir: data_dir.map(|d| d.join("tls")),
        })),
        (false, false, false) => Ok(Some(TlsSettings::Files {
            cert: raw.cert.clone().unwrap_or_default(),
            key: raw.key.clone().unwrap_or_default(),
        })),
        (false, false, true) => Err(invalid(
            "tls.auto_generate",
            "cannot be combined with tls.cert and tls.key",
        )),
        _ => Err(invalid("tls", "tls.cert and tls.key must be set together")),
    }
}

fn validate_listen(listen: &str) -> Result<(), ConfigError> {
    let bad = || invalid("server.listen", format!("{listen:?} is not HOST:PORT"));
    let (host, port) = listen.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    Ok(())
}

/// The handshake version must look like MySQL 8 / TiDB to drivers: with
/// `MariaDB` in it SQLAlchemy switches to its MariaDB dialect (RETURNING).
pub fn validate_version(version: &str) -> Result<(), ConfigError> {
    if version.is_empty() || version.len() > 100 {
        return Err(invalid("server.version", "must be 1-100 characters"));
    }
    if version.bytes().any(|b| !(0x20..0x7F).contains(&b)) {
        return Err(invalid("server.version", "must be printable ASCII"));
    }
    if version.to_ascii_lowercase().contains("mariadb") {
        return Err(invalid(
            "server.version",
            "must not contain \"MariaDB\" (clients would switch to their MariaDB dialect)",
        ));
    }
    if !version.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(invalid(
            "server.version",
            "must start with a MySQL version number such as 8.0.11",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_without_a_file() {
        let c = load(None, &[], &CliOverrides::default()).unwrap();
        assert_eq!(c.listen, "127.0.0.1:4000");
        assert_eq!(c.data_dir, Some(PathBuf::from("./data")));
        assert_eq!(c.server, ServerConfig::default());
        assert_eq!(c.server.users, vec![User::new("root", "")]);
        assert_eq!(c.server.version, "8.0.11-TiDB-v8.5.3-serverless");
        assert_eq!(c.log_level, "info");
    }

    #[test]
    fn shipped_file_documents_the_defaults() {
        let text = include_str!("../../../config/tiembed.toml");
        let from_file = from_toml(text).unwrap();
        let built_in = load(None, &[], &CliOverrides::default()).unwrap();
        assert_eq!(from_file, built_in);
    }

    #[test]
    fn layers_file_env_cli() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            r#"
            [server]
            listen = "0.0.0.0:5000"
            max_connections = 7
            [storage]
            data_dir = "/file/dir"
            [embedding]
            models_dir = "/file/models"
            [log]
            level = "debug"
            [[users]]
            name = "app"
            password = "pw"
            "#,
        )
        .unwrap();
        let c = load(Some(&path), &[], &CliOverrides::default()).unwrap();
        assert_eq!(
            (c.listen.as_str(), c.server.max_connections),
            ("0.0.0.0:5000", 7)
        );
        assert_eq!(c.server.users, vec![User::new("app", "pw")]);

        let e = env(&[
            ("TIEMBED_LISTEN", "127.0.0.1:6000"),
            ("TIEMBED_DATA_DIR", "/env/dir"),
            ("TIEMBED_MODELS_DIR", "/env/models"),
            ("TIEMBED_HUGGINGFACE_BASE_URL", "http://127.0.0.1:9/hf"),
            ("TIEMBED_LOG", "warn"),
            ("TIEMBED_ROOT_PASSWORD", "rootpw"),
        ]);
        let c = load(Some(&path), &e, &CliOverrides::default()).unwrap();
        assert_eq!(c.listen, "127.0.0.1:6000");
        assert_eq!(c.data_dir, Some(PathBuf::from("/env/dir")));
        assert_eq!(c.embed.models_dir, PathBuf::from("/env/models"));
        assert_eq!(
            c.embed.huggingface_base_url.as_deref(),
            Some("http://127.0.0.1:9/hf")
        );
        assert_eq!(c.log_level, "warn");
        assert!(c.server.users.contains(&User::new("root", "rootpw")));
        assert!(c.server.users.contains(&User::new("app", "pw")));
        assert_eq!(
            c.engine_config().embed.huggingface_base_url,
            "http://127.0.0.1:9/hf"
        );

        let cli = CliOverrides {
            listen: Some("127.0.0.1:7000".into()),
            data_dir: Some("/cli/dir".into()),
            models_dir: Some("/cli/models".into()),
            log_level: Some("error".into()),
        };
        let c = load(Some(&path), &e, &cli).unwrap();
        assert_eq!(c.listen, "127.0.0.1:7000");
        assert_eq!(c.data_dir, Some(PathBuf::from("/cli/dir")));
        assert_eq!(c.embed.models_dir, PathBuf::from("/cli/models"));
        assert_eq!(c.log_level, "error");
    }

    #[test]
    fn tls_and_auth_settings() {
        let c = from_toml(
            r#"
            [storage]
            data_dir = "/var/lib/tiembed"
            [tls]
            auto_generate = true
            require_secure_transport = true
            [auth]
            default_plugin = "caching_sha2_password"
            [[users]]
            name = "app"
            password = "pw"
            plugin = "mysql_native_password"
            [[users]]
            name = "sha"
            "#,
        )
        .unwrap();
        assert_eq!(
            c.server.tls,
            Some(TlsSettings::AutoGenerate {
                dir: Some(PathBuf::from("/var/lib/tiembed/tls"))
            })
        );
        assert!(c.server.require_secure_transport);
        assert_eq!(
            c.server.default_auth_plugin,
            AuthPlugin::CachingSha2Password
        );
        assert_eq!(c.server.users[0].plugin, Some(AuthPlugin::NativePassword));
        assert_eq!(c.server.users[1].plugin, None);

        let in_memory =
            from_toml("[storage]\nin_memory = true\n[tls]\nauto_generate = true").unwrap();
        assert_eq!(
            in_memory.server.tls,
            Some(TlsSettings::AutoGenerate { dir: None })
        );

        let e = env(&[
            ("TIEMBED_TLS_CERT", "/env/cert.pem"),
            ("TIEMBED_TLS_KEY", "/env/key.pem"),
            ("TIEMBED_REQUIRE_SECURE_TRANSPORT", "on"),
            ("TIEMBED_DEFAULT_AUTH_PLUGIN", "caching_sha2_password"),
        ]);
        let c = load(None, &e, &CliOverrides::default()).unwrap();
        assert_eq!(
            c.server.tls,
            Some(TlsSettings::Files {
                cert: "/env/cert.pem".into(),
                key: "/env/key.pem".into()
            })
        );
        assert!(c.server.require_secure_transport);
        assert_eq!(
            c.server.default_auth_plugin,
            AuthPlugin::CachingSha2Password
        );
        let e = env(&[("TIEMBED_TLS_AUTO_GENERATE", "maybe")]);
        assert!(matches!(
            load(None, &e, &CliOverrides::default()),
            Err(ConfigError::Env { .. })
        ));
    }

    #[test]
    fn tiembed_config_env_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, "[storage]\nin_memory = true\n").unwrap();
        let e = env(&[("TIEMBED_CONFIG", path.to_str().unwrap())]);
        let c = load(None, &e, &CliOverrides::default()).unwrap();
        assert_eq!(c.data_dir, None);
    }

    #[test]
    fn rejects_bad_settings() {
        let bad = [
            "[server]\nversion = \"10.11.6-MariaDB\"",
            "[server]\nversion = \"8.0.11-mariadb-compatible\"",
            "[server]\nlisten = \"localhost\"",
            "[server]\nlisten = \"127.0.0.1:99999\"",
            "[server]\nmax_connections = 0",
            "[server]\nmax_allowed_packet = 10",
            "[server]\nshutdown_timeout_secs = -1",
            "users = []",
            "[[users]]\nname = \"a\"\n[[users]]\nname = \"a\"",
            "[[users]]\nname = \"\"",
            "[log]\nlevel = \"tiembed=loud\"",
            "[embedding]\nhuggingface_base_url = \"ftp://x\"",
            "[embedding]\nbatch_size = 0",
            "[server]\nunknown_key = 1",
            "[tls]\ncert = \"/c.pem\"",
            "[tls]\nkey = \"/k.pem\"",
            "[tls]\ncert = \"/c.pem\"\nkey = \"/k.pem\"\nauto_generate = true",
            "[tls]\nrequire_secure_transport = true",
            "[auth]\ndefault_plugin = \"sha256_password\"",
            "[[users]]\nname = \"a\"\nplugin = \"mysql_clear_password\"",
            "[nonsense]\n",
        ];
        for text in bad {
            assert!(from_toml(text).is_err(), "accepted: {text}");
        }
        let e = env(&[("TIEMBED_MAX_CONNECTIONS", "lots")]);
        assert!(matches!(
            load(None, &e, &CliOverrides::default()),
            Err(ConfigError::Env { .. })
        ));
        let e = env(&[("TIEMBED_VERSION", "5.5.5-10.11.6-MariaDB")]);
        assert!(matches!(
            load(None, &e, &CliOverrides::default()),
            Err(ConfigError::Invalid { .. })
        ));
    }
}
