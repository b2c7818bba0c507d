//! The sled backend end to end: durability across `kill -9`, group commit
//! under concurrency, format versions, the data directory lock, counters
//! across restarts.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use tiembed_storage::{
    catalog_write, load_catalog, meta_keys, table, SledStorage, Space, Storage, StorageError,
    Transaction, Write,
};
use tiembed_types::{
    Collation, ColumnDef, DataType, IndexDef, IndexKind, IntWidth, TableDef, Value,
};

const CHILD_ENV: &str = "TIEMBED_STORAGE_CRASH_CHILD";

fn col(name: &str, data_type: DataType) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        data_type,
        nullable: false,
        default: None,
        auto_increment: name == "id",
        comment: None,
        collation: Collation::Utf8mb4Bin,
        generated: None,
        on_update_now: false,
    }
}

/// docs(id BIGINT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(64) UNIQUE, emb VECTOR(3))
fn docs() -> TableDef {
    TableDef {
        id: 1,
        db: "test".into(),
        name: "docs".into(),
        columns: vec![
            col(
                "id",
                DataType::Int {
                    width: IntWidth::Big,
                    unsigned: false,
                },
            ),
            col("title", DataType::VarChar(64)),
            col("emb", DataType::Vector(Some(3))),
        ],
        indexes: vec![
            IndexDef {
                id: 1,
                name: "PRIMARY".into(),
                kind: IndexKind::Primary,
                columns: vec!["id".into()],
                comment: None,
            },
            IndexDef {
                id: 2,
                name: "title".into(),
                kind: IndexKind::Unique,
                columns: vec!["title".into()],
                comment: None,
            },
        ],
        foreign_keys: vec![],
        comment: None,
        collation: Collation::Utf8mb4Bin,
        tiflash_replica: 0,
        next_index_id: 3,
    }
}

fn doc(id: u64) -> Vec<Value> {
    vec![
        Value::Int(id as i64),
        Value::Str(format!("title {id}")),
        Value::vector(vec![id as f32, 0.5, -1.0]),
    ]
}

/// The child side of the crash test: inserts one row per durable commit and
/// acknowledges each on stdout, until it is killed.
fn crash_child(dir: &Path) {
    let storage: Arc<dyn Storage> =
        Arc::new(SledStorage::open(dir).expect("child opens the store"));
    let t = docs();
    for _ in 0..1_000_000 {
        let id = table::allocate_auto_increment(&*storage, t.id, 1).unwrap();
        let mut txn = Transaction::new(storage.clone());
        table::insert_row(&mut txn, &t, &doc(id)).unwrap();
        txn.commit().unwrap();
        println!("committed {id}");
    }
}

#[test]
fn committed_rows_survive_sigkill() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        crash_child(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "committed_rows_survive_sigkill",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    while acked.len() < 150 {
        let Some(line) = lines.next() else { break };
        if let Some(id) = line.unwrap().strip_prefix("committed ") {
            acked.push(id.parse::<u64>().unwrap());
        }
        if acked.len() == 1 {
            // While the child runs, the directory is locked.
            match SledStorage::open(dir.path()) {
                Err(StorageError::Locked { .. }) => {}
                Err(e) => panic!("expected Locked, got {e}"),
                Ok(_) => panic!("a second process opened a locked store"),
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(acked.len(), 150, "the child stopped early");

    let storage: Arc<dyn Storage> = Arc::new(SledStorage::open(dir.path()).unwrap());
    let t = docs();
    let txn = Transaction::new(storage.clone());
    for &id in &acked {
        let found = table::get_by_primary_key(&txn, &t, &[Value::Int(id as i64)]).unwrap();
        assert_eq!(
            found.map(|(_, r)| r),
            Some(doc(id)),
            "acknowledged row {id} lost"
        );
    }
    // Every row that made it is whole: its unique entry made it too.
    let title = t.index("title").unwrap();
    let mut max_id = 0;
    for r in table::scan_rows(&txn, &t, false).unwrap() {
        let (key, row) = r.unwrap();
        let hit: Vec<_> = table::index_lookup(&txn, &t, title, &row[1..2], false)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(hit, vec![(key, row.clone())]);
        if let Value::Int(id) = row[0] {
            max_id = max_id.max(id as u64);
        }
    }
    // AUTO_INCREMENT never repeats a value after a crash.
    let next = table::allocate_auto_increment(&*storage, t.id, 1).unwrap();
    assert!(
        next > max_id,
        "auto_increment restarted at {next}, rows go up to {max_id}"
    );
}

#[test]
fn concurrent_commits_group_and_one_insert_wins() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(SledStorage::open(dir.path()).unwrap());
    let threads = 8;
    let per_thread = 20;
    let start = Barrier::new(threads);
    let contested = Barrier::new(threads);
    let wins = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (s, start, contested) = (s.clone(), &start, &contested);
                scope.spawn(move || {
                    start.wait();
                    for i in 0..per_thread {
                        let key = format!("k{t:02}-{i:03}");
                        s.commit(vec![Write::put(
                            Space::Table(9),
                            key.as_bytes(),
                            vec![t as u8],
                        )])
                        .unwrap();
                    }
                    contested.wait();
                    let mut w = Write::put(Space::Table(9), b"contested".to_vec(), vec![t as u8]);
                    w.must_be_absent = true;
                    match s.commit(vec![w]) {
                        Ok(()) => 1,
                        Err(StorageError::KeyExists { .. }) => 0,
                        Err(e) => panic!("unexpected {e}"),
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum::<usize>()
    });
    assert_eq!(wins, 1, "exactly one must_be_absent insert wins");
    let commits = threads * per_thread + 1;
    let flushes = s.flush_count();
    eprintln!("{commits} concurrent commits took {flushes} durable flushes");
    assert!(flushes as usize <= commits + 1);
    drop(s);
    let s = SledStorage::open(dir.path()).unwrap();
    let n = s
        .scan(
            Space::Table(9),
            std::ops::Bound::Unbounded,
            std::ops::Bound::Unbounded,
            false,
        )
        .unwrap()
        .count();
    assert_eq!(n, threads * per_thread + 1);
}

#[test]
fn fresh_store_is_versioned_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SledStorage::open(dir.path()).unwrap();
        let v = s.get(Space::Meta, meta_keys::FORMAT_VERSION).unwrap();
        assert_eq!(
            v,
            Some(tiembed_storage::FORMAT_VERSION.to_be_bytes().to_vec())
        );
        let mut c = load_catalog(&s).unwrap();
        c.next_table_id = 7;
        s.commit(vec![catalog_write(&c).unwrap()]).unwrap();
    }
    let s = SledStorage::open(dir.path()).unwrap();
    let c = load_catalog(&s).unwrap();
    assert_eq!(c.next_table_id, 7);
    assert!(c.database("test").is_some());
}

#[test]
fn newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SledStorage::open(dir.path()).unwrap();
        s.commit(vec![Write::put(
            Space::Meta,
            meta_keys::FORMAT_VERSION,
            99u32.to_be_bytes().to_vec(),
        )])
        .unwrap();
    }
    match SledStorage::open(dir.path()) {
        Err(e @ StorageError::UnsupportedFormat { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("version 99") && msg.contains("only reads version 1"),
                "{msg}"
            );
        }
        Err(e) => panic!("unexpected {e}"),
        Ok(_) => panic!("opened a newer format"),
    }
}

#[test]
fn foreign_sled_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        db.open_tree("something").unwrap().insert("k", "v").unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(
        SledStorage::open(dir.path()),
        Err(StorageError::NotAStore { .. })
    ));
}

#[test]
fn second_open_in_one_process_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledStorage::open(dir.path()).unwrap();
    let err = SledStorage::open(dir.path())
        .err()
        .expect("second open must fail");
    assert!(matches!(err, StorageError::Locked { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("in use by another tiembed process"));
}

#[test]
fn auto_increment_is_contiguous_across_a_clean_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SledStorage::open(dir.path()).unwrap();
        assert_eq!(table::allocate_auto_increment(&s, 3, 2).unwrap(), 1);
        assert_eq!(table::allocate_auto_increment(&s, 3, 1).unwrap(), 3);
        table::rebase_auto_increment(&s, 4, 41).unwrap();
    }
    let s = SledStorage::open(dir.path()).unwrap();
    assert_eq!(table::allocate_auto_increment(&s, 3, 1).unwrap(), 4);
    assert_eq!(table::allocate_auto_increment(&s, 4, 1).unwrap(), 42);
}

#[test]
fn dropped_space_is_gone_and_transactions_span_spaces() {
    let dir = tempfile::tempdir().unwrap();
    let s: Arc<dyn Storage> = Arc::new(SledStorage::open(dir.path()).unwrap());
    let mut txn = Transaction::new(s.clone());
    txn.put(Space::Table(1), b"a".to_vec(), b"1".to_vec());
    txn.put(Space::Table(2), b"b".to_vec(), b"2".to_vec());
    txn.apply(tiembed_storage::sysvar_write("x", Some("y")));
    txn.commit().unwrap();
    assert_eq!(s.get(Space::Table(2), b"b").unwrap(), Some(b"2".to_vec()));
    s.drop_space(Space::Table(2)).unwrap();
    assert_eq!(s.get(Space::Table(2), b"b").unwrap(), None);
    assert_eq!(s.get(Space::Table(1), b"a").unwrap(), Some(b"1".to_vec()));
    assert!(s.drop_space(Space::Meta).is_err());
    assert_eq!(
        tiembed_storage::load_global_sysvars(&*s)
            .unwrap()
            .get("x")
            .map(String::as_str),
        Some("y")
    );
}

#[test]
fn lost_update_is_a_write_conflict_and_duplicates_keep_tidb_text() {
    let dir = tempfile::tempdir().unwrap();
    let s: Arc<dyn Storage> = Arc::new(SledStorage::open(dir.path()).unwrap());
    let t = docs();
    let mut txn = Transaction::new(s.clone());
    let k = table::insert_row(&mut txn, &t, &doc(1)).unwrap();
    txn.commit().unwrap();

    let mut a = Transaction::new(s.clone());
    let mut b = Transaction::new(s.clone());
    let mut changed = doc(1);
    changed[1] = Value::Str("changed".into());
    table::update_row(&mut a, &t, &k, &doc(1), &changed).unwrap();
    table::delete_row(&mut b, &t, &k, &doc(1)).unwrap();
    a.commit().unwrap();
    assert!(matches!(
        b.commit(),
        Err(StorageError::WriteConflict { .. })
    ));

    let mut c = Transaction::new(s.clone());
    let mut d = Transaction::new(s.clone());
    table::insert_row(&mut c, &t, &doc(2)).unwrap();
    table::insert_row(&mut d, &t, &doc(2)).unwrap();
    c.commit().unwrap();
    let e = d.commit().unwrap_err();
    assert_eq!(e.to_string(), "Duplicate entry '2' for key 'docs.PRIMARY'");

    let txn = Transaction::new(s);
    assert_eq!(table::get_row(&txn, &t, &k).unwrap(), Some(changed));
}

#[test]
fn large_values_go_through_blob_files_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    // sled stores values above a quarter segment (128 KiB) as separate blob
    // files, which its own flush never fsyncs.
    let big: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
    {
        let s = SledStorage::open(dir.path()).unwrap();
        s.commit(vec![Write::put(
            Space::Table(3),
            b"big".to_vec(),
            big.clone(),
        )])
        .unwrap();
        assert!(
            std::fs::read_dir(dir.path().join("blobs")).unwrap().count() >= 1,
            "expected a blob file"
        );
    }
    let s = SledStorage::open(dir.path()).unwrap();
    assert_eq!(s.get(Space::Table(3), b"big").unwrap(), Some(big));
}
