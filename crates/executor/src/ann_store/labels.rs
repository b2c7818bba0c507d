//! The row table stored beside an index's graph: which row key each graph
//! label stands for, and the rows whose distance is NULL (they are not in
//! the graph). Saved in the graph file's metadata, in a small binary format.

use super::RowKey;
use std::collections::{BTreeSet, HashMap};

/// Graph labels handed out per row key (a row keeps its label across
/// updates; labels of deleted rows are not reused).
#[derive(Default)]
pub(super) struct Labels {
    pub by_key: HashMap<RowKey, u64>,
    pub by_label: HashMap<u64, RowKey>,
    pub next: u64,
}

impl Labels {
    pub fn assign(&mut self, key: &[u8]) -> u64 {
        if let Some(&l) = self.by_key.get(key) {
            return l;
        }
        let l = self.next;
        self.next += 1;
        self.by_key.insert(key.to_vec(), l);
        self.by_label.insert(l, key.to_vec());
        l
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<u64> {
        let l = self.by_key.remove(key)?;
        self.by_label.remove(&l);
        Some(l)
    }
}

const META_MAGIC: &[u8; 8] = b"TEANNRK1";

/// The row table stored in the index file: labels and NULL-distance rows.
pub(super) fn encode_meta(labels: &Labels, nulls: &BTreeSet<RowKey>) -> Vec<u8> {
    let mut out = META_MAGIC.to_vec();
    out.extend_from_slice(&labels.next.to_le_bytes());
    out.extend_from_slice(&(labels.by_label.len() as u64).to_le_bytes());
    for (label, key) in &labels.by_label {
        out.extend_from_slice(&label.to_le_bytes());
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(key);
    }
    out.extend_from_slice(&(nulls.len() as u64).to_le_bytes());
    for key in nulls {
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(key);
    }
    out
}

pub(super) fn decode_meta(mut b: &[u8]) -> Option<(Labels, BTreeSet<RowKey>)> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if b.len() < n {
            return None;
        }
        let (head, tail) = b.split_at(n);
        *b = tail;
        Some(head)
    }
    fn u64_(b: &mut &[u8]) -> Option<u64> {
        Some(u64::from_le_bytes(take(b, 8)?.try_into().ok()?))
    }
    fn bytes(b: &mut &[u8]) -> Option<Vec<u8>> {
        let n = u32::from_le_bytes(take(b, 4)?.try_into().ok()?) as usize;
        Some(take(b, n)?.to_vec())
    }
    if take(&mut b, 8)? != META_MAGIC {
        return None;
    }
    let mut labels = Labels {
        next: u64_(&mut b)?,
        ..Labels::default()
    };
    for _ in 0..u64_(&mut b)? {
        let label = u64_(&mut b)?;
        let key = bytes(&mut b)?;
        labels.by_key.insert(key.clone(), label);
        labels.by_label.insert(label, key);
    }
    let mut nulls = BTreeSet::new();
    for _ in 0..u64_(&mut b)? {
        nulls.insert(bytes(&mut b)?);
    }
    b.is_empty().then_some((labels, nulls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips() {
        let mut labels = Labels::default();
        labels.assign(b"r\x01");
        labels.assign(b"r\x02");
        labels.remove(b"r\x01");
        let nulls: BTreeSet<RowKey> = [b"r\x03".to_vec()].into();
        let (back, back_nulls) = decode_meta(&encode_meta(&labels, &nulls)).unwrap();
        assert_eq!(back.by_key, labels.by_key);
        assert_eq!(back.by_label, labels.by_label);
        assert_eq!(back.next, 2);
        assert_eq!(back_nulls, nulls);
        let mut cut = encode_meta(&labels, &nulls);
        cut.pop();
        assert!(decode_meta(&cut).is_none());
    }
}
