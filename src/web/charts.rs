//! Charts drawn on the server as SVG (askama templates in `templates/charts/`): readable
//! without JavaScript, with a title, a description, axis labels, and a `<title>` on every
//! bar and point that carries its numbers. Pages put the same numbers in a table beside
//! the chart. Geometry is computed here; the templates only place it.

use askama::Template;

/// Colours with at least 3:1 contrast on white, one per series.
const COLOURS: [&str; 4] = ["#1d4ed8", "#b45309", "#047857", "#7c3aed"];

const WIDTH: i64 = 640;

/// One horizontal bar: its label, its length and the numbers its `<title>` tells.
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// The value as shown beside the bar.
    pub shown: String,
    /// Everything about the bar, for a pointer's tooltip and screen readers.
    pub tooltip: String,
}

struct PlacedBar {
    label: String,
    shown: String,
    tooltip: String,
    y: i64,
    text_y: i64,
    w: i64,
    value_x: i64,
    colour: &'static str,
}

#[derive(Template)]
#[template(path = "charts/hbars.svg", escape = "html")]
struct HBars<'a> {
    id: &'a str,
    title: &'a str,
    desc: String,
    axis: &'a str,
    width: i64,
    height: i64,
    label_x: i64,
    plot_x: i64,
    bar_h: i64,
    axis_top: i64,
    axis_y: i64,
    axis_label_y: i64,
    bars: Vec<PlacedBar>,
}

/// Labels longer than this are cut (the tooltip keeps them whole).
const LABEL_CHARS: usize = 24;

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// Horizontal bars, longest value = full width; `id` must be unique on the page.
pub fn hbars(id: &str, title: &str, axis: &str, bars: Vec<Bar>) -> String {
    let (label_x, plot_x, plot_w) = (176, 184, WIDTH - 184 - 96);
    let (bar_h, gap, top) = (22, 10, 34);
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let placed: Vec<PlacedBar> = bars
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let y = top + i as i64 * (bar_h + gap);
            let w = if max > 0.0 {
                ((b.value.max(0.0) / max) * plot_w as f64).round() as i64
            } else {
                0
            };
            PlacedBar {
                label: short(&b.label),
                shown: b.shown,
                tooltip: b.tooltip,
                y,
                text_y: y + 16,
                w,
                value_x: plot_x + w + 6,
                colour: COLOURS[0],
            }
        })
        .collect();
    let axis_y = top + placed.len() as i64 * (bar_h + gap);
    let desc = placed
        .iter()
        .map(|b| b.tooltip.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    HBars {
        id,
        title,
        desc,
        axis,
        width: WIDTH,
        height: axis_y + 22,
        label_x,
        plot_x,
        bar_h,
        axis_top: top - 4,
        axis_y,
        axis_label_y: axis_y + 16,
        bars: placed,
    }
    .render()
    .unwrap_or_default()
}

/// One line: a value per x position, and how a value reads.
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    pub format: fn(f64) -> String,
}

struct Point {
    x: i64,
    y: i64,
    tooltip: String,
}

struct PlacedSeries {
    colour: &'static str,
    path: String,
    points: Vec<Point>,
}

struct Tick {
    x: i64,
    y: i64,
    label: String,
}

struct Legend {
    x: i64,
    label: String,
    colour: &'static str,
}

#[derive(Template)]
#[template(path = "charts/lines.svg", escape = "html")]
struct Lines<'a> {
    id: &'a str,
    title: &'a str,
    desc: String,
    x_label: &'a str,
    y_label: &'a str,
    width: i64,
    height: i64,
    plot_left: i64,
    plot_right: i64,
    plot_top: i64,
    plot_bottom: i64,
    legend: Vec<Legend>,
    x_ticks: Vec<Tick>,
    y_ticks: Vec<Tick>,
    series: Vec<PlacedSeries>,
}

/// 1, 2 or 5 times a power of ten, at least `v` (and at least 1).
pub fn nice_ceiling(v: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

/// Lines over labelled x positions (days), sharing one y axis from zero.
pub fn lines(
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    xs: &[String],
    series: Vec<Series>,
) -> String {
    let (plot_left, plot_right, plot_top, plot_bottom) = (64, WIDTH - 16, 60, 230);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let top = nice_ceiling(max);
    let n = xs.len().max(1);
    let x_at = |i: usize| -> i64 {
        if n == 1 {
            (plot_left + plot_right) / 2
        } else {
            plot_left + ((plot_right - plot_left) as f64 * i as f64 / (n - 1) as f64).round() as i64
        }
    };
    let y_at = |v: f64| -> i64 {
        plot_bottom - ((plot_bottom - plot_top) as f64 * (v.max(0.0) / top)).round() as i64
    };
    let format = series.first().map(|s| s.format).unwrap_or(plain);
    let y_ticks = [0.0, top / 2.0, top]
        .into_iter()
        .map(|v| Tick {
            x: plot_left,
            y: y_at(v),
            label: format(v),
        })
        .collect();
    // The first and last day, and about five between.
    let step = (n / 6).max(1);
    let x_ticks = xs
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == n - 1)
        .filter(|(i, _)| *i == n - 1 || n - 1 - i >= step / 2)
        .map(|(i, x)| Tick {
            x: x_at(i),
            y: plot_bottom,
            label: x.get(5..).unwrap_or(x).to_string(),
        })
        .collect();
    let legend = series
        .iter()
        .enumerate()
        .map(|(i, s)| Legend {
            x: plot_left + i as i64 * 170,
            label: s.name.clone(),
            colour: COLOURS[i % COLOURS.len()],
        })
        .collect();
    let mut desc = Vec::new();
    let placed = series
        .iter()
        .enumerate()
        .map(|(si, s)| {
            let points: Vec<Point> = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| Point {
                    x: x_at(i),
                    y: y_at(*v),
                    tooltip: format!(
                        "{}: {} {}",
                        xs.get(i).map(String::as_str).unwrap_or(""),
                        s.name,
                        (s.format)(*v)
                    ),
                })
                .collect();
            let total: f64 = s.values.iter().sum();
            desc.push(format!("{}: {} in all", s.name, (s.format)(total)));
            let path = points
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{}{} {}", if i == 0 { "M" } else { "L" }, p.x, p.y))
                .collect::<Vec<_>>()
                .join(" ");
            PlacedSeries {
                colour: COLOURS[si % COLOURS.len()],
                path,
                points,
            }
        })
        .collect();
    Lines {
        id,
        title,
        desc: format!(
            "{} from {} to {}. {}",
            title,
            xs.first().map(String::as_str).unwrap_or(""),
            xs.last().map(String::as_str).unwrap_or(""),
            desc.join("; ")
        ),
        x_label,
        y_label,
        width: WIDTH,
        height: plot_bottom + 40,
        plot_left,
        plot_right,
        plot_top,
        plot_bottom,
        legend,
        x_ticks,
        y_ticks,
        series: placed,
    }
    .render()
    .unwrap_or_default()
}

/// A count as the axis reads it: 1,234.
pub fn plain(v: f64) -> String {
    crate::web::thousands(v.round() as i64)
}

/// A percent with one decimal.
pub fn percent(v: f64) -> String {
    format!("{v:.1}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"))
    }

    #[test]
    fn bars_are_xml_with_a_title_carrying_each_number() {
        let svg = hbars(
            "f",
            "Funnel <last 30 days>",
            "Leads",
            vec![
                Bar {
                    label: "Traffic & friends".into(),
                    value: 1000.0,
                    shown: "1,000".into(),
                    tooltip: "Traffic: 1,000".into(),
                },
                Bar {
                    label: "A label far longer than the room beside the bars".into(),
                    value: 250.0,
                    shown: "250".into(),
                    tooltip: "Leads: 250 (25.0%)".into(),
                },
            ],
        );
        let doc = parses(&svg);
        let titles: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(
            titles,
            [
                "Funnel <last 30 days>",
                "Traffic: 1,000",
                "Leads: 250 (25.0%)"
            ]
        );
        let widths: Vec<i64> = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect"))
            .map(|n| n.attribute("width").unwrap().parse().unwrap())
            .collect();
        assert_eq!(widths[0], 4 * widths[1], "lengths in proportion");
    }

    #[test]
    fn lines_are_xml_with_a_point_per_value_and_ticks_from_zero() {
        let days: Vec<String> = (1..=30).map(|d| format!("2026-11-{d:02}")).collect();
        let svg = lines(
            "l",
            "Leads and sales per day",
            "Day",
            "Leads",
            &days,
            vec![
                Series {
                    name: "Leads".into(),
                    values: (1..=30).map(f64::from).collect(),
                    format: plain,
                },
                Series {
                    name: "Sold".into(),
                    values: vec![0.0; 30],
                    format: plain,
                },
            ],
        );
        let doc = parses(&svg);
        let points = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .count();
        assert_eq!(points, 60);
        assert!(svg.contains("<title>2026-11-30: Leads 30</title>"));
        assert!(svg.contains(">50<"), "the axis tops at a round 50");
    }

    #[test]
    fn an_empty_chart_still_parses() {
        parses(&hbars("e", "Nothing", "Leads", vec![]));
        parses(&lines("e2", "Nothing", "Day", "Leads", &[], vec![]));
    }

    #[test]
    fn ceilings_are_round() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(480.0), 500.0);
    }
}
