//! Bounded top-k selection for `ORDER BY <distance> [ASC|DESC] LIMIT k
//! [OFFSET o]`: one pass, `O(n log(k+o))`, never a full sort.
//!
//! Ordering is MySQL's: NULL is smaller than every number, so NULL distances
//! come first in ascending order and last in descending order. Equal keys
//! keep their insertion order (the order rows were scanned in), which makes
//! the result deterministic and equal to a stable sort followed by
//! `LIMIT`/`OFFSET`. `-0.0` and `0.0` are equal, as in SQL.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Sort direction of the `ORDER BY` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

/// The `limit` + `offset` best entries seen so far; [`TopK::into_sorted`]
/// drops the first `offset`.
pub struct TopK<T> {
    heap: BinaryHeap<Entry<T>>,
    capacity: usize,
    offset: usize,
    direction: Direction,
    next_seq: u64,
}

/// Rank in ascending "better first" order: `(class, value)`, where the
/// class puts NULLs on the right side and the value is negated for DESC.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rank {
    class: u8,
    value: f64,
}

impl Rank {
    fn of(distance: Option<f64>, direction: Direction) -> Rank {
        match (distance, direction) {
            (None, Direction::Asc) => Rank {
                class: 0,
                value: 0.0,
            },
            (Some(d), Direction::Asc) => Rank { class: 1, value: d },
            (Some(d), Direction::Desc) => Rank {
                class: 0,
                value: -d,
            },
            (None, Direction::Desc) => Rank {
                class: 1,
                value: 0.0,
            },
        }
    }

    fn cmp(&self, other: &Rank) -> Ordering {
        // NaN never gets here: `TopK::push` turns it into NULL.
        self.class.cmp(&other.class).then(
            self.value
                .partial_cmp(&other.value)
                .unwrap_or(Ordering::Equal),
        )
    }
}

struct Entry<T> {
    rank: Rank,
    seq: u64,
    distance: Option<f64>,
    payload: T,
}

impl<T> Entry<T> {
    fn cmp_key(&self, rank: &Rank, seq: u64) -> Ordering {
        self.rank.cmp(rank).then(self.seq.cmp(&seq))
    }
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
/// Larger = worse, so the max-heap's top is the entry to evict.
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_key(&other.rank, other.seq)
    }
}

impl<T> TopK<T> {
    /// Ascending order (`ORDER BY d LIMIT limit OFFSET offset`).
    pub fn new(limit: usize, offset: usize) -> TopK<T> {
        TopK::with_direction(limit, offset, Direction::Asc)
    }

    pub fn with_direction(limit: usize, offset: usize, direction: Direction) -> TopK<T> {
        // A zero limit keeps nothing, whatever the offset.
        let capacity = if limit == 0 {
            0
        } else {
            limit.saturating_add(offset)
        };
        TopK {
            heap: BinaryHeap::with_capacity(capacity.min(1 << 16) + 1),
            capacity,
            offset,
            direction,
            next_seq: 0,
        }
    }

    /// Offers one entry; a NaN distance counts as NULL. Entries offered
    /// earlier win ties.
    pub fn push(&mut self, distance: Option<f64>, payload: T) {
        let distance = distance.filter(|d| !d.is_nan());
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.capacity == 0 {
            return;
        }
        let rank = Rank::of(distance, self.direction);
        if self.heap.len() < self.capacity {
            self.heap.push(Entry {
                rank,
                seq,
                distance,
                payload,
            });
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if worst.cmp_key(&rank, seq) == Ordering::Greater {
                *worst = Entry {
                    rank,
                    seq,
                    distance,
                    payload,
                };
            }
        }
    }

    /// Whether [`TopK::push`] would keep an entry with this distance now;
    /// lets a scan skip building payloads for rows that cannot make it.
    pub fn would_accept(&self, distance: Option<f64>) -> bool {
        if self.heap.len() < self.capacity {
            return true;
        }
        let distance = distance.filter(|d| !d.is_nan());
        // A later entry loses a tie, so it must be strictly better.
        self.heap.peek().is_some_and(|worst| {
            worst.rank.cmp(&Rank::of(distance, self.direction)) == Ordering::Greater
        })
    }

    /// For the scan's inner loop: in ascending order, a full heap rejects
    /// every number `>= threshold` (ties go to the earlier entry). NaN when
    /// no number can be rejected yet, since `x >= NaN` is always false.
    pub(crate) fn asc_threshold(&self) -> f64 {
        if self.heap.len() < self.capacity || self.direction != Direction::Asc {
            return f64::NAN;
        }
        match self.heap.peek() {
            Some(worst) if worst.rank.class == 1 => worst.rank.value,
            // Full of NULLs (or keeping nothing): no number gets in.
            _ => f64::NEG_INFINITY,
        }
    }

    /// Entries held (at most `limit + offset`).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The kept entries best first, without the first `offset`.
    pub fn into_sorted(self) -> Vec<(Option<f64>, T)> {
        let offset = self.offset;
        self.heap
            .into_sorted_vec()
            .into_iter()
            .skip(offset)
            .map(|e| (e.distance, e.payload))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(items: &[Option<f64>], limit: usize, offset: usize, dir: Direction) -> Vec<usize> {
        let mut t = TopK::with_direction(limit, offset, dir);
        for (i, d) in items.iter().enumerate() {
            t.push(*d, i);
        }
        t.into_sorted().into_iter().map(|(_, i)| i).collect()
    }

    /// A stable full sort in MySQL order, then OFFSET/LIMIT.
    fn sorted(items: &[Option<f64>], limit: usize, offset: usize, dir: Direction) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..items.len()).collect();
        idx.sort_by(|&a, &b| {
            let o = match (items[a], items[b]) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap(),
            };
            if dir == Direction::Desc {
                o.reverse()
            } else {
                o
            }
        });
        idx.into_iter().skip(offset).take(limit).collect()
    }

    #[test]
    fn nulls_first_ascending_last_descending() {
        let items = [Some(0.5), None, Some(0.1), None, Some(0.3)];
        assert_eq!(run(&items, 3, 0, Direction::Asc), vec![1, 3, 2]);
        assert_eq!(run(&items, 5, 0, Direction::Desc), vec![0, 4, 2, 1, 3]);
    }

    #[test]
    fn ties_keep_insertion_order_and_zero_signs_tie() {
        let items = [Some(1.0), Some(0.0), Some(1.0), Some(-0.0), Some(1.0)];
        assert_eq!(run(&items, 4, 0, Direction::Asc), vec![1, 3, 0, 2]);
        assert_eq!(run(&items, 2, 0, Direction::Desc), vec![0, 2]);
    }

    #[test]
    fn offset_and_zero_limit() {
        let items: Vec<Option<f64>> = (0..10).map(|i| Some((10 - i) as f64)).collect();
        assert_eq!(run(&items, 3, 2, Direction::Asc), vec![7, 6, 5]);
        assert_eq!(run(&items, 3, 9, Direction::Asc), vec![0]);
        assert_eq!(run(&items, 3, 20, Direction::Asc), Vec::<usize>::new());
        assert_eq!(run(&items, 0, 2, Direction::Asc), Vec::<usize>::new());
        assert_eq!(
            run(&items, usize::MAX, usize::MAX, Direction::Asc),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn nan_counts_as_null() {
        assert_eq!(
            run(&[Some(1.0), Some(f64::NAN)], 1, 0, Direction::Asc),
            vec![1]
        );
    }

    #[test]
    fn would_accept_matches_push() {
        let mut t = TopK::new(2, 0);
        t.push(Some(1.0), 0);
        assert!(t.would_accept(Some(5.0)));
        t.push(Some(2.0), 1);
        assert!(!t.would_accept(Some(2.0)));
        assert!(t.would_accept(Some(1.5)));
        assert!(t.would_accept(None));
    }

    proptest! {
        #[test]
        fn equals_stable_sort_then_limit(
            items in prop::collection::vec(prop_oneof![
                1 => Just(None),
                4 => (0u8..6).prop_map(|v| Some(v as f64 / 2.0)),
                2 => (-1e3f64..1e3).prop_map(Some),
            ], 0..60),
            limit in 0usize..12,
            offset in 0usize..12,
            desc in any::<bool>(),
        ) {
            let dir = if desc { Direction::Desc } else { Direction::Asc };
            prop_assert_eq!(run(&items, limit, offset, dir), sorted(&items, limit, offset, dir));
        }
    }
}
