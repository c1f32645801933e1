//! The SVG charts of `scripts/bench` (plotters, SVG backend: text is written
//! as SVG text, so no font is needed here), from `plot_data`'s series.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot_data::{
    cdf_ms, concurrency_label, concurrency_position, decade_range, throughput_by_concurrency,
    Series,
};
use crate::report::Report;
use crate::Result;

/// The sign-in chart's file name (linked from docs/performance.md).
pub const SIGN_IN_FILE: &str = "bench-sign-in.svg";
/// The `me` latency chart's file name.
pub const ME_LATENCY_FILE: &str = "bench-me-latency.svg";

/// The most points drawn per latency line.
const CDF_POINTS: usize = 400;
/// `me`'s p99 target under saturating sign-ins (SPEC.md section 7), in ms.
const ME_P99_TARGET_MS: f64 = 20.0;
const SIZE: (u32, u32) = (880, 500);
const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

fn color(index: usize) -> RGBColor {
    COLORS[index % COLORS.len()]
}

/// Draws both charts of `report` into `dir` and returns their paths.
pub fn write_charts(dir: &Path, report: &Report) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let sign_in = dir.join(SIGN_IN_FILE);
    let lines: Vec<Series> = report
        .backends
        .iter()
        .map(|b| throughput_by_concurrency(&b.label, &b.sign_in_rates()))
        .collect();
    sign_in_chart(&sign_in, report.raw_verifies, &lines)?;

    let me = dir.join(ME_LATENCY_FILE);
    let mut lines = Vec::new();
    for backend in &report.backends {
        for (state, load) in [
            ("alone", &backend.me_alone),
            ("under saturating sign-ins", &backend.me_loaded),
        ] {
            lines.push(Series {
                label: format!("{}, {state}", backend.label),
                points: cdf_ms(load.latencies.sorted_micros(), CDF_POINTS),
            });
        }
    }
    me_latency_chart(&me, &lines)?;
    Ok(vec![sign_in, me])
}

fn sign_in_chart(path: &Path, raw: f64, lines: &[Series]) -> Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let top = lines
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(raw, f64::max)
        * 1.15;
    let right = concurrency_position(256).max(
        lines
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold(0.0, f64::max),
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Sign-in throughput by concurrency (closed loop)",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.3f64..right + 0.3, 0f64..top)?;
    chart
        .configure_mesh()
        .x_labels(2 * (right as usize + 1))
        .x_label_formatter(&|x| concurrency_label(*x))
        .x_desc("sign-ins in flight")
        .y_desc("successful sign-ins / s")
        .light_line_style(WHITE)
        .draw()?;
    let reference = |share: f64| vec![(-0.3, share * raw), (right + 0.3, share * raw)];
    chart
        .draw_series(LineSeries::new(reference(1.0), BLACK.stroke_width(1)))?
        .label(format!("raw argon2id verify rate (a): {raw:.1}/s"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
    let grey = RGBColor(140, 140, 140);
    chart
        .draw_series(LineSeries::new(reference(0.9), grey.stroke_width(1)))?
        .label(format!("target: 90% of (a) = {:.1}/s", 0.9 * raw))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(1)));
    for (index, series) in lines.iter().enumerate() {
        let c = color(index);
        chart
            .draw_series(LineSeries::new(series.points.clone(), c.stroke_width(2)))?
            .label(series.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(
            series
                .points
                .iter()
                .map(|&point| Circle::new(point, 4, c.filled())),
        )?;
    }
    finish(&mut chart, &root)
}

fn me_latency_chart(path: &Path, lines: &[Series]) -> Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (low, high) = decade_range(
        lines
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain([ME_P99_TARGET_MS]),
        (0.1, 100.0),
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "GET /api/portal/me latency: share of requests at most this slow",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d((low..high).log_scale(), 0f64..100.5)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("% of requests")
        .x_label_formatter(&|x| format!("{x}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .light_line_style(WHITE)
        .draw()?;
    let grey = RGBColor(140, 140, 140);
    chart
        .draw_series(LineSeries::new(
            vec![(ME_P99_TARGET_MS, 0.0), (ME_P99_TARGET_MS, 100.0)],
            grey.stroke_width(1),
        ))?
        .label(format!(
            "target: p99 < {ME_P99_TARGET_MS} ms under sign-ins"
        ))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(1)));
    chart.draw_series(LineSeries::new(
        vec![(low, 99.0), (high, 99.0)],
        grey.mix(0.5).stroke_width(1),
    ))?;
    for (index, series) in lines.iter().enumerate() {
        // Alone and loaded of one store share its colour; loaded is thinner.
        let c = color(index / 2);
        let width = if index % 2 == 0 { 3 } else { 1 };
        let points: Vec<(f64, f64)> = series
            .points
            .iter()
            .map(|&(x, y)| (x.max(low), y))
            .collect();
        chart
            .draw_series(LineSeries::new(points, c.stroke_width(width)))?
            .label(series.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(width))
            });
    }
    finish(&mut chart, &root)
}

/// Draws the legend in the lower right corner and writes the file.
fn finish<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    root: &DrawingArea<SVGBackend<'a>, Shift>,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
