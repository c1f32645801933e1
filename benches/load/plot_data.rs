//! The data behind the charts of `scripts/bench`: pure functions from the
//! measurements to the points drawn (`plot.rs` draws them). Tested by
//! `tests/bench_plot_data.rs`, which compiles this file in (the load driver
//! itself is a bench without a test harness).

/// One line of a chart: its legend and its points, in x order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Where a concurrency sits on the throughput chart's x axis: its base-2
/// logarithm, so 1, 4, 16, 64, 256 are evenly spaced.
pub fn concurrency_position(concurrency: usize) -> f64 {
    (concurrency.max(1) as f64).log2()
}

/// The label of an x position of the throughput chart: the concurrency at a
/// whole position, nothing between two.
pub fn concurrency_label(position: f64) -> String {
    let rounded = position.round();
    if (position - rounded).abs() > 1e-6 || rounded < 0.0 {
        return String::new();
    }
    format!("{}", 2f64.powf(rounded) as u64)
}

/// Successful sign-ins per second by concurrency, one point per measured
/// concurrency, in concurrency order (x: `concurrency_position`).
pub fn throughput_by_concurrency(label: &str, measured: &[(usize, f64)]) -> Series {
    let mut measured = measured.to_vec();
    measured.sort_by_key(|&(concurrency, _)| concurrency);
    Series {
        label: label.to_owned(),
        points: measured
            .into_iter()
            .map(|(concurrency, rate)| (concurrency_position(concurrency), rate))
            .collect(),
    }
}

/// The empirical distribution of sorted latencies in microseconds, as
/// (milliseconds, percent of requests at most that slow). Every rank when
/// there are at most `max_points` samples; otherwise `max_points` evenly
/// spaced ranks plus the fastest, so the slowest sample (100 %) is always
/// the last point.
pub fn cdf_ms(sorted_micros: &[u64], max_points: usize) -> Vec<(f64, f64)> {
    let n = sorted_micros.len();
    if n == 0 || max_points == 0 {
        return Vec::new();
    }
    let mut ranks: Vec<usize> = if n <= max_points {
        (1..=n).collect()
    } else {
        std::iter::once(1)
            .chain((1..=max_points).map(|i| (i * n).div_ceil(max_points)))
            .collect()
    };
    ranks.dedup();
    ranks
        .into_iter()
        .map(|rank| {
            (
                sorted_micros[rank - 1] as f64 / 1000.0,
                100.0 * rank as f64 / n as f64,
            )
        })
        .collect()
}

/// A logarithmic axis range holding every positive value: from the power of
/// ten at or below the smallest to the one at or above the largest
/// (`fallback` when there is no positive value).
pub fn decade_range(values: impl IntoIterator<Item = f64>, fallback: (f64, f64)) -> (f64, f64) {
    let (low, high) = values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(low, high), v| {
            (low.min(v), high.max(v))
        });
    if high == 0.0 {
        return fallback;
    }
    let low = 10f64.powf(low.log10().floor());
    let high = 10f64.powf(high.log10().ceil());
    if high > low {
        (low, high)
    } else {
        (low, low * 10.0)
    }
}
