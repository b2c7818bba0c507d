use super::*;
use crate::MemoryStorage;
use std::sync::Arc;
use tiembed_types::{ColumnDef, DataType, IntWidth, VectorMetric, HNSW_DEFAULTS};

fn col(name: &str, data_type: DataType, collation: Collation) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        data_type,
        nullable: true,
        default: None,
        auto_increment: false,
        comment: None,
        collation,
        generated: None,
        on_update_now: false,
    }
}

fn int() -> DataType {
    DataType::Int {
        width: IntWidth::Int,
        unsigned: false,
    }
}

fn idx(id: u32, name: &str, kind: IndexKind, cols: &[&str]) -> IndexDef {
    IndexDef {
        id,
        name: name.into(),
        kind,
        columns: cols.iter().map(|c| c.to_string()).collect(),
        comment: None,
    }
}

/// t(id INT PRIMARY KEY, name VARCHAR(20) COLLATE general_ci UNIQUE uk,
///   grp INT, KEY k_grp(grp, name), emb VECTOR(2) + vector index)
fn table() -> TableDef {
    TableDef {
        id: 5,
        db: "test".into(),
        name: "t".into(),
        columns: vec![
            col("id", int(), Collation::Binary),
            col("name", DataType::VarChar(20), Collation::Utf8mb4GeneralCi),
            col("grp", int(), Collation::Binary),
            col("emb", DataType::Vector(Some(2)), Collation::Binary),
        ],
        indexes: vec![
            idx(1, "PRIMARY", IndexKind::Primary, &["id"]),
            idx(2, "uk", IndexKind::Unique, &["name"]),
            idx(3, "k_grp", IndexKind::Plain, &["grp", "name"]),
            idx(
                4,
                "vec_idx",
                IndexKind::Vector {
                    metric: VectorMetric::Cosine,
                    params: HNSW_DEFAULTS,
                },
                &["emb"],
            ),
        ],
        foreign_keys: vec![],
        comment: None,
        collation: Collation::Utf8mb4Bin,
        tiflash_replica: 0,
        next_index_id: 5,
    }
}

fn row(id: i64, name: Option<&str>, grp: i64) -> Vec<Value> {
    vec![
        Value::Int(id),
        name.map_or(Value::Null, |n| Value::Str(n.into())),
        Value::Int(grp),
        Value::vector(vec![id as f32, 0.5]),
    ]
}

fn setup() -> (Arc<dyn Storage>, TableDef) {
    (Arc::new(MemoryStorage::new()), table())
}

fn ids(iter: RowIter<'_>) -> Vec<i64> {
    iter.map(|r| match r.unwrap().1[0] {
        Value::Int(i) => i,
        ref other => panic!("unexpected {other:?}"),
    })
    .collect()
}

fn dup_text(e: StorageError) -> String {
    match e {
        StorageError::DuplicateEntry { .. } => e.to_string(),
        other => panic!("expected a duplicate entry, got {other:?}"),
    }
}

#[test]
fn insert_and_point_lookup() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s.clone());
    let key = insert_row(&mut txn, &t, &row(1, Some("Alice"), 10)).unwrap();
    let (k, r) = get_by_primary_key(&txn, &t, &[Value::Int(1)])
        .unwrap()
        .unwrap();
    assert_eq!((k.clone(), r), (key, row(1, Some("Alice"), 10)));
    // A UInt literal finds the INT key.
    assert!(get_by_primary_key(&txn, &t, &[Value::UInt(1)])
        .unwrap()
        .is_some());
    assert!(get_by_primary_key(&txn, &t, &[Value::Int(2)])
        .unwrap()
        .is_none());
    txn.commit().unwrap();
    let fresh = Transaction::new(s);
    assert_eq!(
        get_row(&fresh, &t, &k).unwrap(),
        Some(row(1, Some("Alice"), 10))
    );
}

#[test]
fn duplicate_errors_use_tidb_text() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s);
    insert_row(&mut txn, &t, &row(1, Some("Alice"), 10)).unwrap();
    let e = insert_row(&mut txn, &t, &row(1, Some("Bob"), 10)).unwrap_err();
    assert_eq!(dup_text(e), "Duplicate entry '1' for key 't.PRIMARY'");
    // general_ci: 'ALICE' collides with 'Alice'; the new value is reported.
    let e = insert_row(&mut txn, &t, &row(2, Some("ALICE "), 10)).unwrap_err();
    assert_eq!(dup_text(e), "Duplicate entry 'ALICE ' for key 't.uk'");
    // A failed insert wrote nothing.
    assert!(get_by_primary_key(&txn, &t, &[Value::Int(2)])
        .unwrap()
        .is_none());
    assert_eq!(txn.len(), 3, "row + uk entry + k_grp entry");
}

#[test]
fn composite_primary_key_duplicate_value() {
    let mut t = table();
    t.indexes[0].columns = vec!["id".into(), "name".into()];
    let s: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let mut txn = Transaction::new(s);
    t.indexes.retain(|i| i.name != "uk");
    insert_row(&mut txn, &t, &row(1, Some("abc"), 0)).unwrap();
    insert_row(&mut txn, &t, &row(1, Some("abd"), 0)).unwrap();
    let e = insert_row(&mut txn, &t, &row(1, Some("ABC"), 0)).unwrap_err();
    assert_eq!(dup_text(e), "Duplicate entry '1-ABC' for key 't.PRIMARY'");
    // Prefix lookup on the first PK column.
    assert_eq!(
        ids(index_lookup(&txn, &t, &t.indexes[0], &[Value::Int(1)], false).unwrap()),
        vec![1, 1]
    );
}

#[test]
fn unique_index_allows_many_nulls() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s);
    insert_row(&mut txn, &t, &row(1, None, 0)).unwrap();
    insert_row(&mut txn, &t, &row(2, None, 0)).unwrap();
    let uk = t.index("uk").unwrap();
    assert_eq!(
        ids(index_lookup(&txn, &t, uk, &[Value::Null], false).unwrap()),
        vec![1, 2]
    );
    assert!(find_conflicts(&txn, &t, &row(3, None, 0))
        .unwrap()
        .is_empty());
}

#[test]
fn hidden_row_ids_keep_insertion_order() {
    let mut t = table();
    t.indexes.retain(|i| i.kind != IndexKind::Primary);
    let s: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let mut txn = Transaction::new(s);
    for id in [3, 1, 2] {
        insert_row(&mut txn, &t, &row(id, None, 0)).unwrap();
    }
    // Same values again: no primary key, so no conflict.
    insert_row(&mut txn, &t, &row(3, None, 0)).unwrap();
    assert_eq!(ids(scan_rows(&txn, &t, false).unwrap()), vec![3, 1, 2, 3]);
    assert_eq!(ids(scan_rows(&txn, &t, true).unwrap()), vec![3, 2, 1, 3]);
    assert!(matches!(
        get_by_primary_key(&txn, &t, &[Value::Int(1)]),
        Err(StorageError::NoPrimaryKey(_))
    ));
}

#[test]
fn update_moves_primary_key_and_maintains_indexes() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s.clone());
    let k1 = insert_row(&mut txn, &t, &row(1, Some("a"), 10)).unwrap();
    insert_row(&mut txn, &t, &row(2, Some("b"), 10)).unwrap();
    txn.commit().unwrap();

    let mut txn = Transaction::new(s.clone());
    let e = update_row(
        &mut txn,
        &t,
        &k1,
        &row(1, Some("a"), 10),
        &row(2, Some("a"), 10),
    )
    .unwrap_err();
    assert_eq!(dup_text(e), "Duplicate entry '2' for key 't.PRIMARY'");
    let e = update_row(
        &mut txn,
        &t,
        &k1,
        &row(1, Some("a"), 10),
        &row(1, Some("B"), 10),
    )
    .unwrap_err();
    assert_eq!(dup_text(e), "Duplicate entry 'B' for key 't.uk'");
    assert!(txn.is_empty(), "failed updates write nothing");

    let k9 = update_row(
        &mut txn,
        &t,
        &k1,
        &row(1, Some("a"), 10),
        &row(9, Some("z"), 20),
    )
    .unwrap();
    assert_ne!(k9, k1);
    // Case-only change under _ci keeps the same unique entry.
    update_row(
        &mut txn,
        &t,
        &k9,
        &row(9, Some("z"), 20),
        &row(9, Some("Z"), 20),
    )
    .unwrap();
    txn.commit().unwrap();

    let txn = Transaction::new(s);
    assert_eq!(ids(scan_rows(&txn, &t, false).unwrap()), vec![2, 9]);
    let uk = t.index("uk").unwrap();
    let k_grp = t.index("k_grp").unwrap();
    assert!(ids(index_lookup(&txn, &t, uk, &[Value::Str("a".into())], false).unwrap()).is_empty());
    assert_eq!(
        ids(index_lookup(&txn, &t, uk, &[Value::Str("z".into())], false).unwrap()),
        vec![9]
    );
    assert_eq!(
        ids(index_lookup(&txn, &t, k_grp, &[Value::Int(20)], false).unwrap()),
        vec![9]
    );
    assert_eq!(
        ids(index_lookup(&txn, &t, k_grp, &[Value::Int(10)], false).unwrap()),
        vec![2]
    );
    assert_eq!(get_row(&txn, &t, &k9).unwrap(), Some(row(9, Some("Z"), 20)));
}

#[test]
fn delete_removes_row_and_entries() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s.clone());
    let k = insert_row(&mut txn, &t, &row(1, Some("a"), 10)).unwrap();
    delete_row(&mut txn, &t, &k, &row(1, Some("a"), 10)).unwrap();
    assert!(ids(scan_rows(&txn, &t, false).unwrap()).is_empty());
    let k_grp = t.index("k_grp").unwrap();
    assert!(ids(index_lookup(&txn, &t, k_grp, &[Value::Int(10)], false).unwrap()).is_empty());
    // The row and its unique entry were inserted by this transaction: they
    // vanish; only a harmless delete of the plain entry remains.
    assert_eq!(txn.len(), 1);
    insert_row(&mut txn, &t, &row(1, Some("a"), 10)).unwrap();
    let k2 = insert_row(&mut txn, &t, &row(2, Some("b"), 10)).unwrap();
    txn.commit().unwrap();
    let mut txn = Transaction::new(s.clone());
    delete_row(&mut txn, &t, &k2, &row(2, Some("b"), 10)).unwrap();
    txn.commit().unwrap();
    let txn = Transaction::new(s);
    let all: Vec<_> = txn
        .scan(space(&t), Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .collect();
    assert_eq!(
        all.len(),
        3,
        "row 1 + its uk and k_grp entries; row 2 left nothing behind"
    );
}

#[test]
fn delete_then_reinsert_same_key_commits() {
    // REPLACE: delete the committed row, insert one with the same keys.
    let (s, t) = setup();
    let mut txn = Transaction::new(s.clone());
    let k = insert_row(&mut txn, &t, &row(1, Some("a"), 10)).unwrap();
    txn.commit().unwrap();
    let mut txn = Transaction::new(s.clone());
    let conflicts = find_conflicts(&txn, &t, &row(1, Some("A"), 11)).unwrap();
    assert_eq!(conflicts.len(), 1, "the PK and uk hits are the same row");
    assert_eq!(conflicts[0].index, "PRIMARY");
    delete_row(&mut txn, &t, &k, &conflicts[0].row).unwrap();
    insert_row(&mut txn, &t, &row(1, Some("A"), 11)).unwrap();
    txn.commit().unwrap();
    let txn = Transaction::new(s);
    assert_eq!(get_row(&txn, &t, &k).unwrap(), Some(row(1, Some("A"), 11)));
}

#[test]
fn find_conflicts_reports_each_colliding_row_in_mysql_order() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s);
    insert_row(&mut txn, &t, &row(1, Some("a"), 0)).unwrap();
    insert_row(&mut txn, &t, &row(2, Some("b"), 0)).unwrap();
    let c = find_conflicts(&txn, &t, &row(1, Some("B"), 0)).unwrap();
    let got: Vec<(&str, &Value)> = c.iter().map(|c| (c.index.as_str(), &c.row[0])).collect();
    assert_eq!(
        got,
        vec![("PRIMARY", &Value::Int(1)), ("uk", &Value::Int(2))]
    );
}

#[test]
fn index_ranges_and_order() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s.clone());
    insert_row(&mut txn, &t, &row(1, None, 0)).unwrap();
    for (id, grp) in [(2, 30), (3, 10), (4, 20), (5, 20)] {
        insert_row(&mut txn, &t, &row(id, Some(&format!("n{id}")), grp)).unwrap();
    }
    let uk = t.index("uk").unwrap();
    let k_grp = t.index("k_grp").unwrap();
    let pk = t.primary_key().unwrap();
    let r = |lo, hi, rev| ids(index_range(&txn, &t, k_grp, lo, hi, rev).unwrap());
    assert_eq!(
        r(
            Bound::Included(&Value::Int(10)),
            Bound::Included(&Value::Int(20)),
            false
        ),
        vec![3, 4, 5]
    );
    assert_eq!(
        r(Bound::Excluded(&Value::Int(10)), Bound::Unbounded, false),
        vec![4, 5, 2]
    );
    assert_eq!(
        r(Bound::Unbounded, Bound::Excluded(&Value::Int(20)), true),
        vec![3, 1]
    );
    assert_eq!(
        r(
            Bound::Excluded(&Value::Int(20)),
            Bound::Excluded(&Value::Int(20)),
            false
        ),
        Vec::<i64>::new()
    );
    // NULLs come first; Excluded(NULL) gives SQL range semantics.
    let names = |lo| ids(index_range(&txn, &t, uk, lo, Bound::Unbounded, false).unwrap());
    assert_eq!(names(Bound::Unbounded), vec![1, 2, 3, 4, 5]);
    assert_eq!(names(Bound::Excluded(&Value::Null)), vec![2, 3, 4, 5]);
    // Primary key ranges scan rows directly.
    let p = ids(index_range(
        &txn,
        &t,
        pk,
        Bound::Included(&Value::Int(2)),
        Bound::Included(&Value::Int(4)),
        true,
    )
    .unwrap());
    assert_eq!(p, vec![4, 3, 2]);
    // Composite prefix + full equality.
    let eq = ids(index_lookup(
        &txn,
        &t,
        k_grp,
        &[Value::Int(20), Value::Str("N5".into())],
        false,
    )
    .unwrap());
    assert_eq!(eq, vec![5]);
    // Committed and buffered rows merge in order.
    txn.commit().unwrap();
    let mut txn = Transaction::new(s);
    insert_row(&mut txn, &t, &row(6, Some("n6"), 15)).unwrap();
    assert_eq!(
        ids(index_range(
            &txn,
            &t,
            k_grp,
            Bound::Included(&Value::Int(10)),
            Bound::Included(&Value::Int(20)),
            false
        )
        .unwrap()),
        vec![3, 6, 4, 5]
    );
    let vec_idx = t.index("vec_idx").unwrap();
    assert!(index_lookup(&txn, &t, vec_idx, &[], false).is_err());
}

#[test]
fn statement_rollback_keeps_earlier_statements() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s.clone());
    insert_row(&mut txn, &t, &row(1, Some("a"), 0)).unwrap();
    // A multi-row INSERT whose second row fails: the whole statement vanishes.
    let sp = txn.savepoint();
    insert_row(&mut txn, &t, &row(2, Some("b"), 0)).unwrap();
    assert!(insert_row(&mut txn, &t, &row(3, Some("A"), 0)).is_err());
    txn.rollback_to(sp);
    txn.commit().unwrap();
    let txn = Transaction::new(s);
    assert_eq!(ids(scan_rows(&txn, &t, false).unwrap()), vec![1]);
    let uk = t.index("uk").unwrap();
    assert!(ids(index_lookup(&txn, &t, uk, &[Value::Str("b".into())], false).unwrap()).is_empty());
}

#[test]
fn concurrent_inserts_of_one_key_second_commit_fails_with_tidb_text() {
    let (s, t) = setup();
    let mut a = Transaction::new(s.clone());
    let mut b = Transaction::new(s.clone());
    insert_row(&mut a, &t, &row(1, Some("x"), 0)).unwrap();
    insert_row(&mut b, &t, &row(1, Some("y"), 0)).unwrap();
    a.commit().unwrap();
    let e = b.commit().unwrap_err();
    assert_eq!(dup_text(e), "Duplicate entry '1' for key 't.PRIMARY'");
    let mut c = Transaction::new(s.clone());
    insert_row(&mut c, &t, &row(2, Some("q"), 0)).unwrap();
    let mut d = Transaction::new(s.clone());
    insert_row(&mut d, &t, &row(3, Some("Q"), 0)).unwrap();
    c.commit().unwrap();
    assert_eq!(
        dup_text(d.commit().unwrap_err()),
        "Duplicate entry 'Q' for key 't.uk'"
    );
}

#[test]
fn concurrent_update_and_delete_of_one_row_conflict() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s.clone());
    let k = insert_row(&mut txn, &t, &row(1, Some("a"), 0)).unwrap();
    txn.commit().unwrap();
    let mut a = Transaction::new(s.clone());
    let mut b = Transaction::new(s.clone());
    delete_row(&mut a, &t, &k, &row(1, Some("a"), 0)).unwrap();
    update_row(&mut b, &t, &k, &row(1, Some("a"), 0), &row(1, Some("a"), 5)).unwrap();
    a.commit().unwrap();
    // Without the check, b would resurrect the row without its uk entry.
    let e = b.commit().unwrap_err();
    assert!(matches!(e, StorageError::WriteConflict { .. }), "{e:?}");
    assert_eq!(
        tiembed_types::Error::from(e).to_string(),
        "Write conflict, key={tableID=5} [try again later]"
    );
    assert!(get_row(&Transaction::new(s), &t, &k).unwrap().is_none());
}

#[test]
fn add_and_drop_index_entries() {
    let (s, mut t) = setup();
    let mut txn = Transaction::new(s.clone());
    let rows = [row(1, Some("a"), 7), row(2, Some("b"), 7)];
    for r in &rows {
        insert_row(&mut txn, &t, r).unwrap();
    }
    txn.commit().unwrap();
    // ALTER TABLE ADD UNIQUE INDEX u_grp(grp): backfill finds the duplicate.
    t.indexes.push(idx(5, "u_grp", IndexKind::Unique, &["grp"]));
    let u_grp = t.indexes[4].clone();
    let mut txn = Transaction::new(s.clone());
    let existing: Vec<(RowKey, Vec<Value>)> = scan_rows(&txn, &t, false)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    add_index_entry(&mut txn, &t, &u_grp, &existing[0].0, &existing[0].1).unwrap();
    let e = add_index_entry(&mut txn, &t, &u_grp, &existing[1].0, &existing[1].1).unwrap_err();
    assert_eq!(dup_text(e), "Duplicate entry '7' for key 't.u_grp'");
    // DROP INDEX k_grp.
    txn.rollback();
    let mut txn = Transaction::new(s);
    assert_eq!(drop_index_entries(&mut txn, &t, 3).unwrap(), 2);
    let k_grp = t.index("k_grp").unwrap();
    assert!(ids(index_lookup(&txn, &t, k_grp, &[Value::Int(7)], false).unwrap()).is_empty());
}

#[test]
fn rows_must_match_the_table() {
    let (s, t) = setup();
    let mut txn = Transaction::new(s);
    assert!(matches!(
        insert_row(&mut txn, &t, &[Value::Int(1)]),
        Err(StorageError::RowShape { .. })
    ));
}

#[test]
fn auto_increment_allocates_rebases_and_never_repeats() {
    let s = MemoryStorage::new();
    assert_eq!(allocate_auto_increment(&s, 1, 1).unwrap(), 1);
    assert_eq!(allocate_auto_increment(&s, 1, 3).unwrap(), 2);
    assert_eq!(allocate_auto_increment(&s, 1, 1).unwrap(), 5);
    assert_eq!(allocate_auto_increment(&s, 2, 1).unwrap(), 1, "per table");
    rebase_auto_increment(&s, 1, 100).unwrap();
    assert_eq!(allocate_auto_increment(&s, 1, 1).unwrap(), 101);
    rebase_auto_increment(&s, 1, 50).unwrap();
    assert_eq!(
        allocate_auto_increment(&s, 1, 1).unwrap(),
        102,
        "a smaller explicit value does not rebase"
    );
    rebase_auto_increment(&s, 1, u64::MAX).unwrap();
    assert!(matches!(
        allocate_auto_increment(&s, 1, 1),
        Err(StorageError::CounterExhausted)
    ));
}
