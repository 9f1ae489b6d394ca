//! Order statistics of a sample set.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub p90: f64,
    pub max: f64,
}

/// None for an empty set. The median averages the two middle values of an even set; p90 is
/// the nearest-rank percentile.
pub fn summarize(samples: &[f64]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
    Some(Summary {
        n,
        median,
        min: s[0],
        p90: s[rank - 1],
        max: s[n - 1],
    })
}

/// The median of integers (e.g. KiB), None for an empty set.
pub fn median_u64(values: &[u64]) -> Option<u64> {
    let as_f: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    summarize(&as_f).map(|s| s.median.round() as u64)
}

impl Summary {
    pub fn to_json(self) -> Value {
        json!({
            "n": self.n,
            "median_ms": round3(self.median),
            "min_ms": round3(self.min),
            "p90_ms": round3(self.p90),
            "max_ms": round3(self.max),
        })
    }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_and_even_sets() {
        let s = summarize(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.p90), (3.0, 1.0, 5.0, 5.0));
        let s = summarize(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(s.median, 2.5);
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(summarize(&ten).unwrap().p90, 9.0);
        assert!(summarize(&[]).is_none());
        assert_eq!(median_u64(&[3, 1, 2]), Some(2));
    }
}
