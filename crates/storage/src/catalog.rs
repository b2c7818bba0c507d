//! What the engine persists in the meta space besides data: the catalog
//! (serde JSON under `catalog`) and GLOBAL system variables
//! (`sysvar/<lowercase name>` -> value text). Both are plain [`Write`]s so
//! a DDL statement commits its catalog change together with its data writes.

use crate::{meta_keys, Space, Storage, StorageError, Write};
use std::collections::BTreeMap;
use std::ops::Bound;
use tiembed_types::{Catalog, DatabaseDef};

/// Loads the catalog; a fresh store gets one with the database `test`, as
/// TiDB creates it (not persisted until the first DDL).
pub fn load_catalog(storage: &dyn Storage) -> Result<Catalog, StorageError> {
    match storage.get(Space::Meta, meta_keys::CATALOG)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| StorageError::Corrupt {
            what: "catalog",
            detail: e.to_string(),
        }),
        None => {
            let mut catalog = Catalog {
                next_table_id: 1,
                ..Catalog::default()
            };
            catalog.databases.insert(
                "test".into(),
                DatabaseDef {
                    name: "test".into(),
                    tables: BTreeMap::new(),
                },
            );
            Ok(catalog)
        }
    }
}

/// The write that persists `catalog`; commit it together with the data
/// writes of the same DDL statement (e.g. `txn.apply(catalog_write(&c)?)`).
pub fn catalog_write(catalog: &Catalog) -> Result<Write, StorageError> {
    let json = serde_json::to_vec(catalog).map_err(|e| StorageError::Corrupt {
        what: "catalog",
        detail: format!("cannot serialise: {e}"),
    })?;
    Ok(Write::put(Space::Meta, meta_keys::CATALOG, json))
}

/// Every persisted GLOBAL system variable: lower-case name -> value text.
pub fn load_global_sysvars(
    storage: &dyn Storage,
) -> Result<BTreeMap<String, String>, StorageError> {
    let prefix = meta_keys::SYSVAR_PREFIX;
    let end = crate::codec::prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded);
    let mut vars = BTreeMap::new();
    for kv in storage.scan(Space::Meta, Bound::Included(prefix.to_vec()), end, false)? {
        let (k, v) = kv?;
        let corrupt = |detail: String| StorageError::Corrupt {
            what: "system variable",
            detail,
        };
        let name =
            String::from_utf8(k[prefix.len()..].to_vec()).map_err(|e| corrupt(e.to_string()))?;
        let value = String::from_utf8(v).map_err(|e| corrupt(format!("{name}: {e}")))?;
        vars.insert(name, value);
    }
    Ok(vars)
}

/// The write that persists `SET GLOBAL name = value` (`None`: back to the
/// default, i.e. forget the persisted value). The name is lower-cased.
pub fn sysvar_write(name: &str, value: Option<&str>) -> Write {
    let mut key = meta_keys::SYSVAR_PREFIX.to_vec();
    key.extend_from_slice(name.to_ascii_lowercase().as_bytes());
    match value {
        Some(v) => Write::put(Space::Meta, key, v.as_bytes()),
        None => Write::delete(Space::Meta, key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryStorage, Transaction};
    use std::sync::Arc;

    #[test]
    fn fresh_store_has_database_test() {
        let s = MemoryStorage::new();
        let c = load_catalog(&s).unwrap();
        assert!(c.database("TEST").is_some());
        assert_eq!(c.databases.len(), 1);
    }

    #[test]
    fn catalog_round_trips_through_a_transaction() {
        let s: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let mut c = load_catalog(&*s).unwrap();
        c.databases.insert(
            "app".into(),
            DatabaseDef {
                name: "App".into(),
                tables: BTreeMap::new(),
            },
        );
        c.next_table_id = 42;
        let mut txn = Transaction::new(s.clone());
        txn.apply(catalog_write(&c).unwrap());
        txn.commit().unwrap();
        let back = load_catalog(&*s).unwrap();
        assert_eq!(back.database("app").map(|d| d.name.as_str()), Some("App"));
        assert_eq!(back.next_table_id, 42);
    }

    #[test]
    fn sysvars_persist_and_reset() {
        let s = MemoryStorage::new();
        s.commit(vec![
            sysvar_write("TIDB_EXP_EMBED_HUGGINGFACE_API_KEY", Some("hf_x")),
            sysvar_write("max_connections", Some("10")),
        ])
        .unwrap();
        let vars = load_global_sysvars(&s).unwrap();
        assert_eq!(
            vars.get("tidb_exp_embed_huggingface_api_key")
                .map(String::as_str),
            Some("hf_x")
        );
        assert_eq!(vars.len(), 2);
        s.commit(vec![sysvar_write("max_connections", None)])
            .unwrap();
        assert_eq!(load_global_sysvars(&s).unwrap().len(), 1);
    }
}
