//! Exact percentiles and the sign-test interval of a median.

use std::time::Duration;

/// Latencies of one run, sorted once.
#[derive(Debug, Clone)]
pub struct Latencies {
    sorted_micros: Vec<u64>,
}

impl Latencies {
    pub fn new(samples: impl IntoIterator<Item = Duration>) -> Self {
        let mut sorted_micros: Vec<u64> =
            samples.into_iter().map(|d| d.as_micros() as u64).collect();
        sorted_micros.sort_unstable();
        Self { sorted_micros }
    }

    /// Every latency, in microseconds, fastest first.
    pub fn sorted_micros(&self) -> &[u64] {
        &self.sorted_micros
    }

    /// The nearest-rank percentile (`p` in 0..=100), in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile(&self.sorted_micros, p) as f64 / 1000.0
    }
}

/// Nearest-rank percentile of sorted values; 0 for no values.
pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of sorted values (mean of the two middle ones for an even count).
pub fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The distribution-free 95% confidence interval of the median of sorted
/// values, from the sign test: `[x_(k), x_(n+1-k)]` with `k` the largest rank
/// such that `P(Binomial(n, 1/2) < k) <= 0.025`, computed exactly.
pub fn median_interval_95(sorted: &[f64]) -> (f64, f64) {
    let n = sorted.len();
    if n < 6 {
        return (f64::NEG_INFINITY, f64::INFINITY);
    }
    // P(X <= j) for X ~ Binomial(n, 1/2), summed in log space per term.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0f64; // ln C(n, j)
    let mut cumulative = 0.0f64;
    let mut last_below = None;
    for j in 0..n {
        cumulative += (ln_choose + ln_half_n).exp();
        if cumulative > 0.025 {
            break;
        }
        last_below = Some(j);
        ln_choose += ((n - j) as f64).ln() - ((j + 1) as f64).ln();
    }
    match last_below {
        None => (f64::NEG_INFINITY, f64::INFINITY),
        Some(j) => {
            let k = j + 1; // P(X < k) <= 0.025
            (sorted[k - 1], sorted[n - k])
        }
    }
}
