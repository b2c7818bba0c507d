//! A least-recently-used map from (model, options, text, config version)
//! to a vector. Hash map for lookups, an ordered map of use stamps for
//! eviction: O(log n) per touch, no unsafe list juggling.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    /// Which embedder (route + model + canonical options).
    pub lane: Arc<str>,
    pub version: u64,
    pub text: String,
}

pub(crate) struct Lru {
    capacity: usize,
    stamp: u64,
    map: HashMap<Arc<CacheKey>, (Arc<Vec<f32>>, u64)>,
    order: BTreeMap<u64, Arc<CacheKey>>,
}

impl Lru {
    pub fn new(capacity: usize) -> Lru {
        Lru {
            capacity,
            stamp: 0,
            map: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    pub fn get(&mut self, key: &CacheKey) -> Option<Arc<Vec<f32>>> {
        self.stamp += 1;
        let stamp = self.stamp;
        let (k, (v, old)) = self
            .map
            .get_key_value(key)
            .map(|(k, e)| (k.clone(), e.clone()))?;
        self.order.remove(&old);
        self.order.insert(stamp, k.clone());
        if let Some(e) = self.map.get_mut(key) {
            e.1 = stamp;
        }
        Some(v)
    }

    pub fn insert(&mut self, key: CacheKey, value: Arc<Vec<f32>>) {
        if self.capacity == 0 {
            return;
        }
        self.stamp += 1;
        let key = Arc::new(key);
        if let Some((_, old)) = self.map.insert(key.clone(), (value, self.stamp)) {
            self.order.remove(&old);
        }
        self.order.insert(self.stamp, key);
        while self.map.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.map.remove(&oldest);
        }
    }

    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(t: &str) -> CacheKey {
        CacheKey {
            lane: "m".into(),
            version: 0,
            text: t.into(),
        }
    }

    #[test]
    fn evicts_least_recently_used() {
        let mut c = Lru::new(2);
        c.insert(key("a"), Arc::new(vec![1.0]));
        c.insert(key("b"), Arc::new(vec![2.0]));
        assert!(c.get(&key("a")).is_some()); // b is now the oldest
        c.insert(key("c"), Arc::new(vec![3.0]));
        assert_eq!(c.len(), 2);
        assert!(c.get(&key("b")).is_none());
        assert_eq!(*c.get(&key("a")).unwrap(), vec![1.0]);
        assert_eq!(*c.get(&key("c")).unwrap(), vec![3.0]);
        c.insert(key("c"), Arc::new(vec![4.0]));
        assert_eq!(*c.get(&key("c")).unwrap(), vec![4.0]);
        assert_eq!(c.len(), 2);
        assert_eq!(c.order.len(), 2);
    }

    #[test]
    fn versions_and_zero_capacity() {
        let mut c = Lru::new(4);
        c.insert(key("a"), Arc::new(vec![1.0]));
        assert!(c
            .get(&CacheKey {
                version: 1,
                ..key("a")
            })
            .is_none());
        c.clear();
        assert_eq!(c.len(), 0);
        let mut z = Lru::new(0);
        z.insert(key("a"), Arc::new(vec![1.0]));
        assert!(z.get(&key("a")).is_none());
    }
}
