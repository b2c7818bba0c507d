//! System variables: which exist, their scope, defaults, validation, and
//! how they read back (API keys masked as TiDB masks them).

use tiembed_types::{Error, Result, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Both,
    GlobalOnly,
    SessionOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// ON/OFF, read as 1/0.
    Bool,
    Int,
    Str,
    /// A secret: stored as given, read back masked, never logged.
    Secret,
}

pub struct Var {
    pub name: &'static str,
    pub scope: Scope,
    pub kind: Kind,
    pub read_only: bool,
    pub default: &'static str,
}

const fn v(name: &'static str, scope: Scope, kind: Kind, default: &'static str) -> Var {
    Var {
        name,
        scope,
        kind,
        read_only: false,
        default,
    }
}

const fn ro(name: &'static str, scope: Scope, kind: Kind, default: &'static str) -> Var {
    Var {
        name,
        scope,
        kind,
        read_only: true,
        default,
    }
}

use Kind::*;
use Scope::*;

/// TiDB's default sql_mode (no ANSI_QUOTES: SQLAlchemy depends on that).
pub const DEFAULT_SQL_MODE: &str =
    "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION";

pub static VARS: &[Var] = &[
    v("autocommit", Both, Bool, "ON"),
    v("sql_mode", Both, Str, DEFAULT_SQL_MODE),
    v("transaction_isolation", Both, Str, "REPEATABLE-READ"),
    v("tx_isolation", Both, Str, "REPEATABLE-READ"),
    v("transaction_read_only", Both, Bool, "OFF"),
    v("tx_read_only", Both, Bool, "OFF"),
    v("character_set_client", Both, Str, "utf8mb4"),
    v("character_set_connection", Both, Str, "utf8mb4"),
    v("character_set_results", Both, Str, "utf8mb4"),
    v("character_set_server", Both, Str, "utf8mb4"),
    v("character_set_database", Both, Str, "utf8mb4"),
    ro("character_set_system", GlobalOnly, Str, "utf8"),
    v("collation_connection", Both, Str, "utf8mb4_bin"),
    v("collation_server", Both, Str, "utf8mb4_bin"),
    v("collation_database", Both, Str, "utf8mb4_bin"),
    v("time_zone", Both, Str, "SYSTEM"),
    ro("system_time_zone", GlobalOnly, Str, "UTC"),
    v("max_execution_time", Both, Int, "0"),
    v("div_precision_increment", Both, Int, "4"),
    v("group_concat_max_len", Both, Int, "1024"),
    v("max_allowed_packet", Both, Int, "67108864"),
    v("net_write_timeout", Both, Int, "60"),
    v("net_read_timeout", Both, Int, "30"),
    v("net_buffer_length", Both, Int, "16384"),
    v("wait_timeout", Both, Int, "28800"),
    v("interactive_timeout", Both, Int, "28800"),
    v("sql_select_limit", Both, Int, "18446744073709551615"),
    v("sql_safe_updates", Both, Bool, "OFF"),
    v("sql_auto_is_null", Both, Bool, "OFF"),
    v("foreign_key_checks", Both, Bool, "ON"),
    v("unique_checks", Both, Bool, "ON"),
    v("auto_increment_increment", Both, Int, "1"),
    v("auto_increment_offset", Both, Int, "1"),
    v("default_week_format", Both, Int, "0"),
    v("lc_time_names", Both, Str, "en_US"),
    v("sql_notes", Both, Bool, "ON"),
    v("sql_warnings", Both, Bool, "OFF"),
    v("query_cache_size", Both, Int, "1048576"),
    v("query_cache_type", Both, Str, "OFF"),
    v("default_storage_engine", Both, Str, "InnoDB"),
    v("storage_engine", Both, Str, "InnoDB"),
    v("tidb_multi_statement_mode", Both, Str, "OFF"),
    v(
        "tidb_isolation_read_engines",
        Both,
        Str,
        "tikv,tiflash,tidb",
    ),
    v("tidb_enable_vector_index", Both, Bool, "ON"),
    v("cte_max_recursion_depth", Both, Int, "1000"),
    v("windowing_use_high_precision", Both, Bool, "ON"),
    v("explicit_defaults_for_timestamp", Both, Bool, "ON"),
    v("block_encryption_mode", Both, Str, "aes-128-ecb"),
    v("init_connect", GlobalOnly, Str, ""),
    v("max_connections", GlobalOnly, Int, "0"),
    v("max_prepared_stmt_count", GlobalOnly, Int, "-1"),
    v("performance_schema", GlobalOnly, Bool, "OFF"),
    ro("lower_case_table_names", GlobalOnly, Int, "2"),
    ro("lower_case_file_system", GlobalOnly, Bool, "ON"),
    ro("version", GlobalOnly, Str, ""),
    ro(
        "version_comment",
        GlobalOnly,
        Str,
        "TiDB Server (Apache License 2.0) Community Edition, MySQL 8.0 compatible",
    ),
    ro("version_compile_os", GlobalOnly, Str, "linux"),
    ro("version_compile_machine", GlobalOnly, Str, "x86_64"),
    ro("protocol_version", GlobalOnly, Int, "10"),
    ro("port", GlobalOnly, Int, "4000"),
    ro("hostname", GlobalOnly, Str, "localhost"),
    ro("datadir", GlobalOnly, Str, ""),
    ro("have_ssl", GlobalOnly, Str, "DISABLED"),
    ro("have_openssl", GlobalOnly, Str, "DISABLED"),
    ro("license", GlobalOnly, Str, "Apache License 2.0"),
    ro("socket", GlobalOnly, Str, ""),
    ro("tidb_version", GlobalOnly, Str, ""),
    // Auto Embedding provider settings (GLOBAL only, persisted).
    v("tidb_exp_embed_openai_api_key", GlobalOnly, Secret, ""),
    v("tidb_exp_embed_openai_api_base", GlobalOnly, Str, ""),
    v("tidb_exp_embed_cohere_api_key", GlobalOnly, Secret, ""),
    v("tidb_exp_embed_jina_ai_api_key", GlobalOnly, Secret, ""),
    v("tidb_exp_embed_gemini_api_key", GlobalOnly, Secret, ""),
    v("tidb_exp_embed_huggingface_api_key", GlobalOnly, Secret, ""),
    v("tidb_exp_embed_nvidia_nim_api_key", GlobalOnly, Secret, ""),
    // Session-only facts.
    v("last_insert_id", SessionOnly, Int, "0"),
    v("insert_id", SessionOnly, Int, "0"),
    v("timestamp", SessionOnly, Int, "0"),
    ro("warning_count", SessionOnly, Int, "0"),
    ro("error_count", SessionOnly, Int, "0"),
    // TiDB's: 1 when the previous statement ran a cached plan.
    ro("last_plan_from_cache", SessionOnly, Int, "0"),
    v("tiembed_hnsw_ef_search", SessionOnly, Int, "0"),
];

pub fn lookup(name: &str) -> Option<&'static Var> {
    let lower = name.to_ascii_lowercase();
    VARS.iter().find(|v| v.name == lower)
}

/// Normalises a value being SET, or explains why it is refused.
pub fn normalize(var: &Var, value: &Value) -> Result<String> {
    let text = value.to_text().unwrap_or_default();
    let bad = || Error::WrongValueForVariable {
        name: var.name.into(),
        value: text.clone(),
    };
    Ok(match var.kind {
        Kind::Bool => match value {
            Value::Int(1) | Value::UInt(1) => "ON".into(),
            Value::Int(0) | Value::UInt(0) => "OFF".into(),
            _ => match text.to_ascii_uppercase().as_str() {
                "ON" | "TRUE" | "1" => "ON".into(),
                "OFF" | "FALSE" | "0" => "OFF".into(),
                _ => return Err(bad()),
            },
        },
        Kind::Int => {
            let t = text.trim();
            if t.parse::<i128>().is_err() {
                return Err(Error::other(format!(
                    "Incorrect argument type to variable '{}'",
                    var.name
                )));
            }
            t.to_string()
        }
        Kind::Str if var.name == "tidb_exp_embed_openai_api_base" => normalize_api_base(&text)?,
        Kind::Str if var.name == "transaction_isolation" || var.name == "tx_isolation" => {
            let up = text.to_ascii_uppercase().replace(' ', "-");
            match up.as_str() {
                "READ-UNCOMMITTED" | "READ-COMMITTED" | "REPEATABLE-READ" | "SERIALIZABLE" => up,
                _ => return Err(bad()),
            }
        }
        Kind::Str | Kind::Secret => text,
    })
}

/// `tidb_exp_embed_openai_api_base`: trimmed, trailing `/` and `/embeddings`
/// removed. TiDB also restricts the host to OpenAI/Azure/DashScope; tiembed
/// accepts any http(s) base so self-hosted OpenAI-compatible servers work.
fn normalize_api_base(s: &str) -> Result<String> {
    let mut s = s.trim().to_string();
    if s.is_empty() {
        return Ok(s);
    }
    if !(s.starts_with("https://") || s.starts_with("http://")) {
        return Err(Error::other(
            "invalid value for tidb_exp_embed_openai_api_base: absolute https URL is required",
        ));
    }
    if s.contains('?') || s.contains('#') {
        return Err(Error::other("invalid value for tidb_exp_embed_openai_api_base: query parameters and fragments are not allowed"));
    }
    while s.ends_with('/') {
        s.pop();
    }
    if let Some(stripped) = s.strip_suffix("/embeddings") {
        s = stripped.to_string();
    }
    Ok(s)
}

/// The value as `SELECT @@x` returns it.
pub fn read(var: &Var, stored: &str) -> Value {
    match var.kind {
        Kind::Bool => Value::Int((stored == "ON") as i64),
        Kind::Int => stored
            .parse::<i64>()
            .map(Value::Int)
            .or_else(|_| stored.parse::<u64>().map(Value::UInt))
            .unwrap_or_else(|_| Value::Str(stored.to_string())),
        Kind::Secret => Value::Str(mask(stored)),
        Kind::Str if var.name == "tidb_exp_embed_openai_api_base" && stored.is_empty() => {
            Value::Str("https://api.openai.com/v1".into())
        }
        Kind::Str => Value::Str(stored.to_string()),
    }
}

/// The value as SHOW VARIABLES prints it.
pub fn show(var: &Var, stored: &str) -> String {
    match var.kind {
        Kind::Secret => mask(stored),
        _ => read(var, stored)
            .to_text()
            .map(|t| {
                if var.kind == Kind::Bool {
                    stored.to_string()
                } else {
                    t
                }
            })
            .unwrap_or_default(),
    }
}

/// TiDB's key masking: `''` unset, `******` up to 6 bytes, else `******` + last 4.
pub fn mask(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else if key.len() <= 6 {
        "******".into()
    } else {
        let tail: String = key
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("******{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keys_like_tidb() {
        assert_eq!(mask(""), "");
        assert_eq!(mask("abc"), "******");
        assert_eq!(mask("1234567890"), "******7890");
    }

    #[test]
    fn bools_accept_mysql_spellings() {
        let ac = lookup("AUTOCOMMIT").unwrap();
        assert_eq!(normalize(ac, &Value::Str("off".into())).unwrap(), "OFF");
        assert_eq!(normalize(ac, &Value::Int(1)).unwrap(), "ON");
        assert!(normalize(ac, &Value::Str("maybe".into())).is_err());
        assert_eq!(read(ac, "ON"), Value::Int(1));
    }

    #[test]
    fn api_base_is_normalised() {
        assert_eq!(
            normalize_api_base(" https://x.openai.azure.com/v1/embeddings/ ").unwrap(),
            "https://x.openai.azure.com/v1"
        );
        assert!(normalize_api_base("ftp://x").is_err());
    }
}
