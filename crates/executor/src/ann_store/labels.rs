//! The row table stored beside an index's graph: which row key each graph
//! label stands for, and the rows whose distance is NULL (they are not in
//! the graph). Saved in the graph file's metadata, in a small binary format.

use super::RowKey;
use std::collections::{BTreeSet, HashMap};

/// Graph labels handed out per row key (a row keeps its label across
/// updates; labels of deleted rows are not reused).
#[derive(Default)]
pub(super) struct Labels {
    /// Label -> row key (`None`: the row is gone or its vector is NULL).
    keys: Vec<Option<Box<[u8]>>>,
    /// Row key -> label, built on the first change after a load: queries
    /// only map labels to keys, so a restart need not wait for it.
    by_key: Option<HashMap<Box<[u8]>, u64>>,
    live: usize,
}

impl Labels {
    /// Rows with a label.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn key(&self, label: u64) -> Option<&[u8]> {
        self.keys.get(label as usize)?.as_deref()
    }

    pub fn assign(&mut self, key: &[u8]) -> u64 {
        if let Some(&l) = self.by_key().get(key) {
            return l;
        }
        let l = self.keys.len() as u64;
        self.by_key().insert(key.into(), l);
        self.keys.push(Some(key.into()));
        self.live += 1;
        l
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<u64> {
        let l = self.by_key().remove(key)?;
        self.keys[l as usize] = None;
        self.live -= 1;
        Some(l)
    }

    fn by_key(&mut self) -> &mut HashMap<Box<[u8]>, u64> {
        let keys = &self.keys;
        self.by_key.get_or_insert_with(|| {
            keys.iter()
                .enumerate()
                .filter_map(|(l, k)| Some((k.clone()?, l as u64)))
                .collect()
        })
    }
}

const META_MAGIC: &[u8; 8] = b"TEANNRK1";

/// The row table stored in the index file: labels and NULL-distance rows.
pub(super) fn encode_meta(labels: &Labels, nulls: &BTreeSet<RowKey>) -> Vec<u8> {
    let mut out = META_MAGIC.to_vec();
    out.extend_from_slice(&(labels.keys.len() as u64).to_le_bytes());
    out.extend_from_slice(&(labels.live as u64).to_le_bytes());
    for (label, key) in labels.keys.iter().enumerate() {
        let Some(key) = key else { continue };
        out.extend_from_slice(&(label as u64).to_le_bytes());
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
    let next = u64_(&mut b)? as usize;
    if next > b.len() {
        return None; // every label takes bytes below; bounds the allocation
    }
    let mut labels = Labels {
        keys: vec![None; next],
        ..Labels::default()
    };
    for _ in 0..u64_(&mut b)? {
        let label = u64_(&mut b)? as usize;
        let key = bytes(&mut b)?;
        let slot = labels.keys.get_mut(label)?;
        if slot.replace(key.into()).is_some() {
            return None; // a label twice
        }
        labels.live += 1;
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
        assert_eq!(back.keys, labels.keys);
        assert_eq!((back.len(), back.key(1)), (1, Some(&b"r\x02"[..])));
        assert_eq!(back.key(0), None);
        let mut back = back;
        assert_eq!(back.assign(b"r\x02"), 1, "the row keeps its label");
        assert_eq!(back.assign(b"r\x04"), 2, "labels are not reused");
        assert_eq!(back_nulls, nulls);
        let mut cut = encode_meta(&labels, &nulls);
        cut.pop();
        assert!(decode_meta(&cut).is_none());
    }
}
