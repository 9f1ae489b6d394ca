//! Where box's time goes: `box up --timings` a number of times, the median of each step.

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use serde_json::{json, Value};

use super::spawn;
use super::stats::{self, round3};

pub struct Breakdown {
    pub label: String,
    pub runs: usize,
    /// Each step's times over the runs, in the order box prints them.
    pub steps: Vec<(String, stats::Summary)>,
    /// Median wall time of the same runs (with the output capture).
    pub wall_median: f64,
    pub error: Option<String>,
}

/// Parses `box: timing <step> <ms> ms` lines.
pub fn parse(stderr: &str) -> Vec<(String, f64)> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("box: timing ")?.trim_end();
            let rest = rest.strip_suffix("ms")?.trim_end();
            let (step, ms) = rest.rsplit_once(char::is_whitespace)?;
            Some((step.trim().to_string(), ms.parse().ok()?))
        })
        .collect()
}

/// `box up --timings TOML`, `runs` times (after one unmeasured run).
pub fn measure(
    box_bin: &Path,
    label: &str,
    toml: &Path,
    runs: usize,
    pids: &mut Vec<i32>,
) -> Breakdown {
    let argv = [box_bin.into(), "up".into(), "--timings".into(), toml.into()];
    let mut steps: Vec<(String, Vec<f64>)> = Vec::new();
    let mut walls = Vec::new();
    let mut error = None;
    for i in 0..=runs {
        let mut cmd = spawn::command(&argv, None);
        cmd.stderr(Stdio::piped());
        let t0 = Instant::now();
        let out = match cmd.spawn().and_then(|c| {
            pids.push(c.id() as i32);
            c.wait_with_output()
        }) {
            Ok(out) => out,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        };
        let wall = t0.elapsed().as_secs_f64() * 1e3;
        let text = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            error = Some(format!("{}: {}", out.status, text.trim()));
            break;
        }
        if i == 0 {
            continue;
        }
        walls.push(wall);
        for (step, ms) in parse(&text) {
            match steps.iter_mut().find(|(s, _)| *s == step) {
                Some((_, v)) => v.push(ms),
                None => steps.push((step, vec![ms])),
            }
        }
    }
    Breakdown {
        label: label.to_string(),
        runs: walls.len(),
        steps: steps
            .into_iter()
            .filter_map(|(s, v)| Some((s, stats::summarize(&v)?)))
            .collect(),
        wall_median: stats::summarize(&walls).map_or(0.0, |s| s.median),
        error,
    }
}

impl Breakdown {
    /// The sum of the steps' medians.
    pub fn step_sum(&self) -> f64 {
        self.steps.iter().map(|(_, s)| s.median).sum()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "label": self.label,
            "runs": self.runs,
            "steps": self.steps.iter().map(|(step, s)| json!({"step": step, "median_ms": round3(s.median), "p90_ms": round3(s.p90), "max_ms": round3(s.max)})).collect::<Vec<_>>(),
            "sum_of_step_medians_ms": round3(self.step_sum()),
            "wall_median_ms": round3(self.wall_median),
            "error": self.error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_box_timing_lines() {
        let text = "box: timing prepare                0.120 ms\n\
                    box: timing uid/gid maps           0.050 ms\n\
                    box: timing wait for box           1.500 ms\n\
                    something else\n";
        assert_eq!(
            parse(text),
            vec![
                ("prepare".to_string(), 0.12),
                ("uid/gid maps".to_string(), 0.05),
                ("wait for box".to_string(), 1.5)
            ]
        );
    }
}
