//! The Prometheus text exposition format, version 0.0.4: `# HELP` and
//! `# TYPE` lines, then samples with escaped label values.

use super::histogram::Snapshot;
use std::fmt::Write;

/// The `Content-Type` of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Writes one exposition, family by family.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
}

impl Writer {
    /// Starts a family: its help text and type.
    pub(crate) fn family(&mut self, name: &str, help: &str, kind: Kind) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample of the current family.
    pub(crate) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{label}=\"");
                escape_into(&mut self.out, v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        write_value(&mut self.out, value);
        self.out.push('\n');
    }

    /// A whole family with one sample per `(label value, value)`.
    pub(crate) fn labelled<'a>(
        &mut self,
        (name, help, kind): (&str, &str, Kind),
        label: &str,
        values: impl IntoIterator<Item = (&'a str, u64)>,
    ) {
        self.family(name, help, kind);
        for (v, n) in values {
            self.sample(name, &[(label, v)], n as f64);
        }
    }

    /// A whole family with one unlabelled sample.
    pub(crate) fn single(&mut self, (name, help, kind): (&str, &str, Kind), value: u64) {
        self.family(name, help, kind);
        self.sample(name, &[], value as f64);
    }

    /// A whole histogram family: cumulative `_bucket`s, `_sum`, `_count`.
    pub(crate) fn histogram(&mut self, name: &str, help: &str, snapshot: &Snapshot) {
        self.family(name, help, Kind::Histogram);
        let bucket = format!("{name}_bucket");
        for (bound, count) in &snapshot.buckets {
            let le = if bound.is_infinite() {
                "+Inf".to_owned()
            } else {
                bound.to_string()
            };
            self.sample(&bucket, &[("le", &le)], *count as f64);
        }
        self.sample(&format!("{name}_sum"), &[], snapshot.sum);
        self.sample(&format!("{name}_count"), &[], snapshot.count as f64);
    }

    /// The exposition.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn write_value(out: &mut String, value: f64) {
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        let _ = write!(out, "{}", value as i64);
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_help_type_and_samples() {
        let mut w = Writer::default();
        w.labelled(
            ("x_total", "Things.", Kind::Counter),
            "kind",
            [("a", 1), ("b", 20)],
        );
        w.single(("y", "One\nthing \\ here.", Kind::Gauge), 0);
        assert_eq!(
            w.finish(),
            "# HELP x_total Things.\n# TYPE x_total counter\n\
             x_total{kind=\"a\"} 1\nx_total{kind=\"b\"} 20\n\
             # HELP y One\\nthing \\\\ here.\n# TYPE y gauge\ny 0\n"
        );
    }

    #[test]
    fn escapes_label_values() {
        let mut w = Writer::default();
        w.sample("m", &[("ns", "/a\"b\\c\nd"), ("t", "é")], 2.0);
        assert_eq!(w.finish(), "m{ns=\"/a\\\"b\\\\c\\nd\",t=\"é\"} 2\n");
    }

    #[test]
    fn histogram_has_cumulative_buckets_sum_and_count() {
        let snapshot = Snapshot {
            buckets: vec![(0.001, 1), (0.5, 3), (f64::INFINITY, 4)],
            sum: 2.25,
            count: 4,
        };
        let mut w = Writer::default();
        w.histogram("h_seconds", "Latency.", &snapshot);
        assert_eq!(
            w.finish(),
            "# HELP h_seconds Latency.\n# TYPE h_seconds histogram\n\
             h_seconds_bucket{le=\"0.001\"} 1\nh_seconds_bucket{le=\"0.5\"} 3\n\
             h_seconds_bucket{le=\"+Inf\"} 4\nh_seconds_sum 2.25\nh_seconds_count 4\n"
        );
    }
}
