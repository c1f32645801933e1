//! The load driver's chart data (`benches/load/plot_data.rs`), tested here:
//! the driver is a bench without a test harness, so it cannot run tests.

#[path = "../benches/load/plot_data.rs"]
mod plot_data;

use plot_data::*;

#[test]
fn concurrencies_one_to_256_are_evenly_spaced_and_labelled_by_their_value() {
    let positions: Vec<f64> = [1, 4, 16, 64, 256]
        .into_iter()
        .map(concurrency_position)
        .collect();
    assert_eq!(positions, vec![0.0, 2.0, 4.0, 6.0, 8.0]);
    assert_eq!(concurrency_label(2.0), "4");
    assert_eq!(concurrency_label(8.0), "256");
    assert_eq!(concurrency_label(0.0), "1");
}

#[test]
fn positions_between_two_concurrencies_have_no_label() {
    assert_eq!(concurrency_label(2.5), "");
    assert_eq!(concurrency_label(-1.0), "");
}

#[test]
fn throughput_points_come_in_concurrency_order_whatever_the_measuring_order() {
    let series = throughput_by_concurrency("SQLite", &[(256, 72.0), (4, 69.0), (1, 40.0)]);
    assert_eq!(series.label, "SQLite");
    assert_eq!(series.points, vec![(0.0, 40.0), (2.0, 69.0), (8.0, 72.0)]);
}

#[test]
fn a_short_run_gives_one_cdf_point_per_sample_in_milliseconds() {
    let points = cdf_ms(&[500, 1000, 1000, 4000], 100);
    assert_eq!(
        points,
        vec![(0.5, 25.0), (1.0, 50.0), (1.0, 75.0), (4.0, 100.0)]
    );
}

#[test]
fn a_long_run_is_thinned_but_keeps_its_fastest_and_slowest_sample() {
    let samples: Vec<u64> = (1..=10_000).collect();
    let points = cdf_ms(&samples, 200);
    assert_eq!(points.len(), 201);
    assert_eq!(points[0], (0.001, 0.01));
    assert_eq!(points[points.len() - 1], (10.0, 100.0));
    assert!(points
        .windows(2)
        .all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1));
}

#[test]
fn no_samples_give_no_cdf() {
    assert!(cdf_ms(&[], 100).is_empty());
    assert!(cdf_ms(&[1, 2], 0).is_empty());
}

#[test]
fn the_log_axis_spans_whole_decades_around_the_values() {
    assert_eq!(decade_range([0.3, 2.0, 17.0], (1.0, 10.0)), (0.1, 100.0));
    assert_eq!(decade_range([1.0], (1.0, 10.0)), (1.0, 10.0));
}

#[test]
fn the_log_axis_ignores_zero_and_falls_back_without_positive_values() {
    assert_eq!(decade_range([0.0, 5.0], (1.0, 10.0)), (1.0, 10.0));
    assert_eq!(decade_range([0.0, f64::NAN], (0.1, 100.0)), (0.1, 100.0));
}
