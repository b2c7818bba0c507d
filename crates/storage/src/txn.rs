//! A session's transaction: writes buffered in the session, visible to its
//! own reads, applied by one atomic, durable [`Storage::commit`].
//!
//! Statement atomicity inside an explicit transaction uses savepoints: the
//! executor takes [`Transaction::savepoint`] before each statement and
//! calls [`Transaction::rollback_to`] when the statement fails. Every write
//! records what it replaced in an undo log; rolling back pops it.

use crate::{bounds_empty, Check, KvIter, KvPair, Space, Storage, StorageError, Write};
use std::collections::{BTreeMap, HashMap};
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::Arc;

/// How to report a `put_if_absent` key that turns out to exist at commit
/// (another session committed it first): TiDB's `Duplicate entry` parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The entry as TiDB prints it: `1`, or `1-abc` for composite keys.
    pub value: String,
    /// `<table>.<index>`, e.g. `t.PRIMARY`.
    pub key: String,
}

impl Duplicate {
    pub fn into_error(self) -> StorageError {
        StorageError::DuplicateEntry {
            value: self.value,
            key: self.key,
        }
    }
}

/// Position in a transaction's write history; see [`Transaction::rollback_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Savepoint(usize);

#[derive(Debug, Clone)]
struct Pending {
    /// `None`: deleted.
    value: Option<Vec<u8>>,
    must_be_absent: bool,
    duplicate: Option<Arc<Duplicate>>,
    /// When the key was first written: the commit checks keys in this order,
    /// so a row colliding on several keys reports the one MySQL reports
    /// (the PRIMARY KEY, then UNIQUE indexes in definition order, as
    /// [`crate::table::insert_row`] writes them).
    seq: u64,
}

enum Undo {
    /// A write; `prev` is the buffered state before it (`None`: not buffered).
    Write {
        space: Space,
        key: Vec<u8>,
        prev: Option<Pending>,
    },
    /// A check registered by [`Transaction::expect_unchanged`].
    Check { space: Space, key: Vec<u8> },
}

pub struct Transaction {
    storage: Arc<dyn Storage>,
    buffer: BTreeMap<Space, BTreeMap<Vec<u8>, Pending>>,
    /// Committed values this transaction's writes are based on.
    checks: BTreeMap<(Space, Vec<u8>), Option<Vec<u8>>>,
    undo: Vec<Undo>,
    next_seq: u64,
}

impl Transaction {
    pub fn new(storage: Arc<dyn Storage>) -> Transaction {
        Transaction {
            storage,
            buffer: BTreeMap::new(),
            checks: BTreeMap::new(),
            undo: Vec::new(),
            next_seq: 0,
        }
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The key's value as this transaction sees it.
    pub fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.buffer.get(&space).and_then(|m| m.get(key)) {
            Some(p) => Ok(p.value.clone()),
            None => self.storage.get(space, key),
        }
    }

    /// Keys within the bounds as this transaction sees them, ascending or
    /// descending. Borrows the transaction: collect what you need before
    /// writing (which also avoids the Halloween problem).
    pub fn scan(
        &self,
        space: Space,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Result<KvIter<'_>, StorageError> {
        if bounds_empty(&start, &end) {
            return Ok(Box::new(std::iter::empty()));
        }
        let committed = self
            .storage
            .scan(space, start.clone(), end.clone(), reverse)?;
        let buffered: Buffered<'_> = match self.buffer.get(&space) {
            None => Box::new(std::iter::empty()),
            Some(m) => {
                let r = m.range::<Vec<u8>, _>((start, end));
                if reverse {
                    Box::new(r.rev())
                } else {
                    Box::new(r)
                }
            }
        };
        Ok(Box::new(Merge {
            committed: committed.peekable(),
            buffered: buffered.peekable(),
            reverse,
        }))
    }

    /// All keys starting with `prefix`.
    pub fn scan_prefix(
        &self,
        space: Space,
        prefix: &[u8],
        reverse: bool,
    ) -> Result<KvIter<'_>, StorageError> {
        let end = match crate::codec::prefix_end(prefix) {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        self.scan(space, Bound::Included(prefix.to_vec()), end, reverse)
    }

    pub fn put(&mut self, space: Space, key: Vec<u8>, value: Vec<u8>) {
        let (must_be_absent, duplicate) = match self.pending(space, &key) {
            // Updating a key this transaction inserted keeps the insert's check.
            Some(p) if p.value.is_some() => (p.must_be_absent, p.duplicate.clone()),
            _ => (false, None),
        };
        self.set(
            space,
            key,
            Pending {
                value: Some(value),
                must_be_absent,
                duplicate,
                seq: 0,
            },
        );
    }

    pub fn delete(&mut self, space: Space, key: Vec<u8>) {
        match self.pending(space, &key) {
            // Deleting a key this transaction inserted (and that did not
            // exist before) leaves nothing to write.
            Some(p) if p.must_be_absent => self.unset(space, key),
            _ => self.set(
                space,
                key,
                Pending {
                    value: None,
                    must_be_absent: false,
                    duplicate: None,
                    seq: 0,
                },
            ),
        }
    }

    /// Writes a key that must not exist: the commit re-checks it against
    /// concurrently committed data and fails with `duplicate` if it exists.
    /// The caller checks visibility first (with [`Transaction::get`]) for an
    /// immediate error. Writing over a key this transaction deleted is a
    /// plain overwrite (REPLACE, a primary key moved back); over a key it
    /// wrote, an error.
    pub fn put_if_absent(
        &mut self,
        space: Space,
        key: Vec<u8>,
        value: Vec<u8>,
        duplicate: Duplicate,
    ) -> Result<(), StorageError> {
        match self.pending(space, &key) {
            Some(p) if p.value.is_some() => Err(duplicate.into_error()),
            Some(_) => {
                self.set(
                    space,
                    key,
                    Pending {
                        value: Some(value),
                        must_be_absent: false,
                        duplicate: None,
                        seq: 0,
                    },
                );
                Ok(())
            }
            None => {
                let p = Pending {
                    value: Some(value),
                    must_be_absent: true,
                    duplicate: Some(Arc::new(duplicate)),
                    seq: 0,
                };
                self.set(space, key, p);
                Ok(())
            }
        }
    }

    /// Makes the commit fail with [`StorageError::WriteConflict`] if another
    /// session changes the key's committed value before this transaction
    /// commits. Call it before the first write to a key whose new value was
    /// computed from what was read ([`crate::table::update_row`] and
    /// [`crate::table::delete_row`] do). No-op once the key is buffered.
    pub fn expect_unchanged(&mut self, space: Space, key: &[u8]) -> Result<(), StorageError> {
        if self.pending(space, key).is_some() || self.checks.contains_key(&(space, key.to_vec())) {
            return Ok(());
        }
        let current = self.storage.get(space, key)?;
        self.checks.insert((space, key.to_vec()), current);
        self.undo.push(Undo::Check {
            space,
            key: key.to_vec(),
        });
        Ok(())
    }

    /// Buffers a prepared write (e.g. [`crate::catalog_write`]).
    pub fn apply(&mut self, write: Write) {
        match write.value {
            Some(v) if write.must_be_absent => {
                let p = Pending {
                    value: Some(v),
                    must_be_absent: true,
                    duplicate: None,
                    seq: 0,
                };
                self.set(write.space, write.key, p);
            }
            Some(v) => self.put(write.space, write.key, v),
            None => self.delete(write.space, write.key),
        }
    }

    /// Marks the current point; see [`Transaction::rollback_to`].
    pub fn savepoint(&self) -> Savepoint {
        Savepoint(self.undo.len())
    }

    /// Undoes every write made since `sp` was taken; earlier writes stay.
    pub fn rollback_to(&mut self, sp: Savepoint) {
        while self.undo.len() > sp.0 {
            match self.undo.pop() {
                None => break,
                Some(Undo::Check { space, key }) => {
                    self.checks.remove(&(space, key));
                }
                Some(Undo::Write { space, key, prev }) => {
                    let map = self.buffer.entry(space).or_default();
                    match prev {
                        Some(p) => map.insert(key, p),
                        None => map.remove(&key),
                    };
                }
            }
        }
    }

    /// Whether the transaction has nothing to commit.
    pub fn is_empty(&self) -> bool {
        self.buffer.values().all(BTreeMap::is_empty)
    }

    /// This transaction's buffered writes in `space`, in key order, with
    /// `None` for deletions.
    pub fn buffered(&self, space: Space) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        self.buffer
            .get(&space)
            .into_iter()
            .flat_map(|m| m.iter())
            .map(|(k, p)| (k.as_slice(), p.value.as_deref()))
    }

    /// The keyspaces this transaction writes to.
    pub fn written_spaces(&self) -> impl Iterator<Item = Space> + '_ {
        self.buffer
            .iter()
            .filter(|(_, m)| !m.is_empty())
            .map(|(s, _)| *s)
    }

    /// Number of buffered writes.
    pub fn len(&self) -> usize {
        self.buffer.values().map(BTreeMap::len).sum()
    }

    /// Applies every buffered write atomically and durably. A `put_if_absent`
    /// key committed meanwhile by another session fails the whole commit with
    /// its [`Duplicate`] error, a key changed since [`Self::expect_unchanged`]
    /// with [`StorageError::WriteConflict`]; nothing is applied then. Blocking.
    pub fn commit(self) -> Result<(), StorageError> {
        if self.is_empty() {
            return Ok(());
        }
        let mut duplicates = HashMap::new();
        let mut ordered = Vec::with_capacity(self.len());
        for (space, map) in self.buffer {
            for (key, p) in map {
                if let Some(d) = p.duplicate {
                    duplicates.insert((space, key.clone()), d);
                }
                ordered.push((
                    p.seq,
                    Write {
                        space,
                        key,
                        value: p.value,
                        must_be_absent: p.must_be_absent,
                    },
                ));
            }
        }
        ordered.sort_unstable_by_key(|(seq, _)| *seq);
        let writes = ordered.into_iter().map(|(_, w)| w).collect();
        let checks = self
            .checks
            .into_iter()
            .map(|((space, key), expected)| Check {
                space,
                key,
                expected,
            })
            .collect();
        match self.storage.commit_checked(writes, checks) {
            Err(StorageError::KeyExists { space, key }) => {
                match duplicates.remove(&(space, key.clone())) {
                    Some(d) => Err(Arc::unwrap_or_clone(d).into_error()),
                    None => Err(StorageError::KeyExists { space, key }),
                }
            }
            other => other,
        }
    }

    /// Discards every buffered write.
    pub fn rollback(self) {}

    fn pending(&self, space: Space, key: &[u8]) -> Option<&Pending> {
        self.buffer.get(&space).and_then(|m| m.get(key))
    }

    fn set(&mut self, space: Space, key: Vec<u8>, mut p: Pending) {
        p.seq = match self.pending(space, &key) {
            Some(prev) => prev.seq,
            None => {
                self.next_seq += 1;
                self.next_seq
            }
        };
        let prev = self.buffer.entry(space).or_default().insert(key.clone(), p);
        self.undo.push(Undo::Write { space, key, prev });
    }

    fn unset(&mut self, space: Space, key: Vec<u8>) {
        let prev = self.buffer.entry(space).or_default().remove(&key);
        self.undo.push(Undo::Write { space, key, prev });
    }
}

type Buffered<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a Pending)> + Send + 'a>;

/// Merges committed data with buffered writes; a buffered write wins over
/// the committed value of the same key, a buffered delete hides it.
struct Merge<'a> {
    committed: Peekable<KvIter<'a>>,
    buffered: Peekable<Buffered<'a>>,
    reverse: bool,
}

impl Iterator for Merge<'_> {
    type Item = Result<KvPair, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let take_buffered = match (self.committed.peek(), self.buffered.peek()) {
                (None, None) => return None,
                (Some(Err(_)), _) => return self.committed.next(),
                (Some(Ok(_)), None) => return self.committed.next(),
                (None, Some(_)) => true,
                (Some(Ok((ck, _))), Some((bk, _))) => {
                    let ord = ck.as_slice().cmp(bk.as_slice());
                    let ord = if self.reverse { ord.reverse() } else { ord };
                    match ord {
                        std::cmp::Ordering::Less => return self.committed.next(),
                        std::cmp::Ordering::Equal => {
                            self.committed.next();
                            true
                        }
                        std::cmp::Ordering::Greater => true,
                    }
                }
            };
            debug_assert!(take_buffered);
            let (k, p) = self.buffered.next()?;
            if let Some(v) = &p.value {
                return Some(Ok((k.clone(), v.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStorage;

    const T: Space = Space::Table(7);

    fn dup() -> Duplicate {
        Duplicate {
            value: "1".into(),
            key: "t.PRIMARY".into(),
        }
    }

    fn setup() -> (Arc<dyn Storage>, Transaction) {
        let s: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let writes = ["a", "c", "e", "g"]
            .iter()
            .map(|k| Write::put(T, k.as_bytes(), b"old".to_vec()))
            .collect();
        s.commit(writes).unwrap();
        let txn = Transaction::new(s.clone());
        (s, txn)
    }

    fn scan(txn: &Transaction, reverse: bool) -> Vec<(String, String)> {
        txn.scan(T, Bound::Unbounded, Bound::Unbounded, reverse)
            .unwrap()
            .map(|r| r.unwrap())
            .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
            .collect()
    }

    #[test]
    fn scan_merges_buffer_both_directions() {
        let (_s, mut txn) = setup();
        txn.put(T, b"b".to_vec(), b"new".to_vec());
        txn.put(T, b"c".to_vec(), b"new".to_vec());
        txn.delete(T, b"e".to_vec());
        txn.delete(T, b"z".to_vec());
        txn.put(T, b"h".to_vec(), b"new".to_vec());
        let fwd = scan(&txn, false);
        let expect: Vec<(String, String)> = [
            ("a", "old"),
            ("b", "new"),
            ("c", "new"),
            ("g", "old"),
            ("h", "new"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(fwd, expect);
        let mut rev = scan(&txn, true);
        rev.reverse();
        assert_eq!(rev, expect);
        let bounded: Vec<_> = txn
            .scan(
                T,
                Bound::Excluded(b"a".to_vec()),
                Bound::Included(b"g".to_vec()),
                true,
            )
            .unwrap()
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(bounded, vec![b"g".to_vec(), b"c".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn other_sessions_do_not_see_buffered_writes() {
        let (s, mut txn) = setup();
        txn.put(T, b"x".to_vec(), b"1".to_vec());
        assert_eq!(txn.get(T, b"x").unwrap(), Some(b"1".to_vec()));
        assert_eq!(s.get(T, b"x").unwrap(), None);
        assert_eq!(Transaction::new(s.clone()).get(T, b"x").unwrap(), None);
        txn.commit().unwrap();
        assert_eq!(s.get(T, b"x").unwrap(), Some(b"1".to_vec()));
    }

    #[test]
    fn rollback_to_savepoint_keeps_earlier_writes() {
        let (s, mut txn) = setup();
        txn.put(T, b"x".to_vec(), b"1".to_vec());
        let sp = txn.savepoint();
        txn.put(T, b"x".to_vec(), b"2".to_vec());
        txn.put(T, b"y".to_vec(), b"2".to_vec());
        txn.delete(T, b"a".to_vec());
        txn.rollback_to(sp);
        assert_eq!(txn.get(T, b"x").unwrap(), Some(b"1".to_vec()));
        assert_eq!(txn.get(T, b"y").unwrap(), None);
        assert_eq!(txn.get(T, b"a").unwrap(), Some(b"old".to_vec()));
        assert_eq!(txn.len(), 1);
        txn.rollback_to(txn.savepoint());
        txn.commit().unwrap();
        assert_eq!(s.get(T, b"x").unwrap(), Some(b"1".to_vec()));
        assert_eq!(s.get(T, b"y").unwrap(), None);
    }

    #[test]
    fn rollback_discards_everything() {
        let (s, mut txn) = setup();
        txn.put(T, b"x".to_vec(), b"1".to_vec());
        txn.rollback();
        assert_eq!(s.get(T, b"x").unwrap(), None);
    }

    #[test]
    fn put_if_absent_conflict_at_commit_reports_duplicate() {
        let (s, mut txn) = setup();
        txn.put_if_absent(T, b"k".to_vec(), b"mine".to_vec(), dup())
            .unwrap();
        txn.put(T, b"other".to_vec(), b"1".to_vec());
        s.commit(vec![Write::put(T, b"k".to_vec(), b"theirs".to_vec())])
            .unwrap();
        match txn.commit() {
            Err(StorageError::DuplicateEntry { value, key }) => {
                assert_eq!((value.as_str(), key.as_str()), ("1", "t.PRIMARY"))
            }
            other => panic!("expected a duplicate, got {other:?}"),
        }
        assert_eq!(s.get(T, b"k").unwrap(), Some(b"theirs".to_vec()));
        assert_eq!(
            s.get(T, b"other").unwrap(),
            None,
            "a failed commit applies nothing"
        );
    }

    #[test]
    fn put_if_absent_over_own_delete_is_an_overwrite() {
        let (s, mut txn) = setup();
        txn.delete(T, b"a".to_vec());
        txn.put_if_absent(T, b"a".to_vec(), b"replaced".to_vec(), dup())
            .unwrap();
        assert!(txn
            .put_if_absent(T, b"a".to_vec(), b"again".to_vec(), dup())
            .is_err());
        txn.commit().unwrap();
        assert_eq!(s.get(T, b"a").unwrap(), Some(b"replaced".to_vec()));
    }

    #[test]
    fn expect_unchanged_detects_lost_updates() {
        let (s, mut txn) = setup();
        txn.expect_unchanged(T, b"a").unwrap();
        txn.put(T, b"a".to_vec(), b"mine".to_vec());
        s.commit(vec![Write::put(T, b"a".to_vec(), b"theirs".to_vec())])
            .unwrap();
        assert!(matches!(
            txn.commit(),
            Err(StorageError::WriteConflict { .. })
        ));
        assert_eq!(s.get(T, b"a").unwrap(), Some(b"theirs".to_vec()));

        // Unchanged: commits. A check rolled back with its statement is gone.
        let mut txn = Transaction::new(s.clone());
        txn.expect_unchanged(T, b"c").unwrap();
        txn.delete(T, b"c".to_vec());
        let sp = txn.savepoint();
        txn.expect_unchanged(T, b"e").unwrap();
        txn.rollback_to(sp);
        s.commit(vec![Write::put(T, b"e".to_vec(), b"changed".to_vec())])
            .unwrap();
        txn.commit().unwrap();
        assert_eq!(s.get(T, b"c").unwrap(), None);
    }

    #[test]
    fn insert_then_delete_leaves_nothing() {
        let (_s, mut txn) = setup();
        txn.put_if_absent(T, b"n".to_vec(), b"1".to_vec(), dup())
            .unwrap();
        txn.put(T, b"n".to_vec(), b"2".to_vec());
        txn.delete(T, b"n".to_vec());
        assert!(txn.is_empty());
    }
}
