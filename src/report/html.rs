//! A self-contained HTML report: the summary, and inline SVG plots of the latency distributions
//! and of calls and outcomes over time. No scripts, no external files.

use std::fmt::Write as _;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;

use super::{Report, summary};
use crate::sim::Outcome;

const W: f64 = 720.0;
const H: f64 = 260.0;
const PAD: f64 = 48.0;
const COLORS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A line chart of `series` (name, points) with the x and y axis labels.
fn chart(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_x: bool,
) -> String {
    let xs = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let y1 = ys.fold(0.0_f64, f64::max).max(1.0);
    let tx = |x: f64| {
        let (x, a, b) = if log_x {
            (
                x.max(1e-9).log10(),
                x0.max(1e-9).log10(),
                x1.max(1e-9).log10(),
            )
        } else {
            (x, x0, x1)
        };
        PAD + (x - a) / (b - a).max(1e-9) * (W - 2.0 * PAD)
    };
    let ty = |y: f64| H - PAD + -(y / y1) * (H - 2.0 * PAD);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(
        svg,
        r#"<text x="{}" y="16" text-anchor="middle" font-size="13">{}</text>"#,
        W / 2.0,
        esc(title)
    );
    let _ = write!(
        svg,
        r#"<line x1="{PAD}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{}" stroke="black"/>"#,
        H - PAD,
        W - PAD,
        H - PAD,
        H - PAD
    );
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        W / 2.0,
        H - 8.0,
        esc(xlabel)
    );
    let _ = write!(
        svg,
        r#"<text x="12" y="{}" transform="rotate(-90 12 {})" text-anchor="middle">{}</text>"#,
        H / 2.0,
        H / 2.0,
        esc(ylabel)
    );
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>"#,
        PAD - 4.0,
        PAD + 4.0,
        y1.round(),
        PAD - 4.0,
        H - PAD
    );
    if x0 <= x1 {
        let _ = write!(
            svg,
            r#"<text x="{PAD}" y="{}" text-anchor="middle">{}</text><text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            H - PAD + 14.0,
            fmt_x(x0, log_x),
            W - PAD,
            H - PAD + 14.0,
            fmt_x(x1, log_x)
        );
    }
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", tx(*x), ty(*y)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
            path.join(" ")
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" fill="{color}">{}</text>"#,
            W - PAD + 4.0 - 120.0,
            PAD + 14.0 * i as f64,
            esc(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn fmt_x(x: f64, log_x: bool) -> String {
    if log_x {
        format!("{:.3}%", 100.0 - x)
    } else {
        format!("{x}")
    }
}

/// Percentile curve points: x = 100 - percentile (log scale shows the tail), y = ms.
fn percentiles(encoded: &str) -> Vec<(f64, f64)> {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return Vec::new();
    };
    let Ok(h): Result<Histogram<u64>, _> = Deserializer::new().deserialize(&mut bytes.as_slice())
    else {
        return Vec::new();
    };
    if h.is_empty() {
        return Vec::new();
    }
    [50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99]
        .iter()
        .map(|p| (100.0 - p, h.value_at_percentile(*p) as f64))
        .collect()
}

pub fn to_html(r: &Report) -> String {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>callconf load report</title><style>body{font-family:sans-serif;margin:2em;max-width:60em}pre{background:#f6f6f6;padding:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}.fail{color:#b00}</style></head><body>",
    );
    let _ = write!(
        html,
        "<h1>{} — {}</h1>",
        esc(&r.scenario),
        if r.passed {
            "passed"
        } else {
            "<span class=\"fail\">FAILED</span>"
        }
    );
    let _ = write!(html, "<pre>{}</pre>", esc(&summary(r)));
    let lat: Vec<(String, Vec<(f64, f64)>)> = r
        .latency
        .iter()
        .map(|(k, l)| (k.clone(), percentiles(&l.encoded)))
        .collect();
    html.push_str("<h2>Latency distribution</h2>");
    html.push_str(&chart(
        "latency by percentile (tail to the left)",
        "100 − percentile (log)",
        "ms",
        &lat,
        true,
    ));
    let over = |f: &dyn Fn(&crate::sim::Interval) -> u64| -> Vec<(f64, f64)> {
        r.timeseries
            .iter()
            .map(|row| (row.t_s, f(&row.interval) as f64))
            .collect()
    };
    let calls = vec![
        ("started".to_owned(), over(&|i| i.started)),
        ("ended".to_owned(), over(&|i| i.ended)),
        ("active".to_owned(), over(&|i| i.active)),
        ("failed".to_owned(), over(&|i| i.failed)),
    ];
    html.push_str("<h2>Calls over time</h2>");
    html.push_str(&chart(
        "calls per interval, and alive",
        "time (s)",
        "calls",
        &calls,
        false,
    ));
    let outcomes: Vec<(String, Vec<(f64, f64)>)> = Outcome::ALL
        .iter()
        .filter(|o| r.outcomes.get(o.name()).is_some_and(|n| *n > 0))
        .map(|o| {
            (
                o.name().to_owned(),
                over(&|i| i.outcomes.get(o.name()).copied().unwrap_or(0)),
            )
        })
        .collect();
    html.push_str("<h2>Outcomes over time</h2>");
    html.push_str(&chart(
        "ended calls per interval by outcome",
        "time (s)",
        "calls",
        &outcomes,
        false,
    ));
    html.push_str("</body></html>\n");
    html
}
