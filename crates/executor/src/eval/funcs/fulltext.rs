//! `FTS_MATCH_WORD(query, column)`: a stand-in for TiDB's full-text search
//! until tiembed has full-text indexes, so that TiDB's hybrid-search SQL
//! runs unchanged.
//!
//! TiDB scores a row with BM25 over its full-text index. Without an index
//! there are no corpus statistics (document frequencies, average length),
//! so this scores each row on its own: the query's distinct words (lower-
//! cased, split on anything not a letter or digit, as the STANDARD parser
//! does) each add BM25's saturating term frequency `tf·(k1+1)/(tf+k1)`.
//! A row containing none of the words scores 0, so `WHERE FTS_MATCH_WORD(..)`
//! keeps the rows that match at least one word, and more occurrences of
//! more query words rank higher, as with BM25 — but rare words do not
//! weigh more than common ones.

use std::collections::HashMap;

/// BM25's term-frequency saturation.
const K1: f64 = 1.2;

/// The relevance of `text` to `query` (0 when no query word occurs).
pub fn match_word(query: &str, text: &str) -> f64 {
    let mut tf: HashMap<String, u32> = HashMap::new();
    for word in words(text) {
        *tf.entry(word).or_default() += 1;
    }
    let mut seen = Vec::new();
    let mut score = 0.0;
    for word in words(query) {
        if seen.contains(&word) {
            continue;
        }
        if let Some(&n) = tf.get(&word) {
            let n = f64::from(n);
            score += n * (K1 + 1.0) / (n + K1);
        }
        seen.push(word);
    }
    score
}

fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

#[cfg(test)]
mod tests {
    use super::match_word;

    #[test]
    fn scores_rise_with_matches_and_saturate() {
        assert_eq!(match_word("vector index", "nothing here"), 0.0);
        let one = match_word("vector index", "a Vector column");
        let two = match_word("vector index", "a vector index");
        let repeated = match_word("vector index", "vector, vector, vector index");
        assert!(
            one > 0.0 && two > one && repeated > two,
            "{one} {two} {repeated}"
        );
        assert!(repeated < 2.0 * two, "term frequency saturates");
        // Repeating a word in the query does not count it twice.
        assert_eq!(
            match_word("index index", "index"),
            match_word("index", "index")
        );
    }
}
