//! The goals of issue 15 (performance, round two; issue 6's were the first round's) and
//! issue 13's (images), each a measured value against its target, from one run's results.

use super::cases::{BOX_DEFAULT, BOX_UNCONFINED};
use super::detached::Detached;
use super::report::{mib, ratio, Results};
use super::stats::Summary;

/// A goal line: `value <= target`, met or missed.
pub struct Goal {
    pub what: String,
    pub value: Option<f64>,
    pub target: f64,
    pub unit: &'static str,
}

impl Goal {
    fn ratio(what: String, value: Option<f64>, target: f64) -> Goal {
        Goal {
            what,
            value,
            target,
            unit: "x",
        }
    }

    fn ms(what: String, value: Option<f64>, target: f64) -> Goal {
        Goal {
            what,
            value,
            target,
            unit: " ms",
        }
    }

    fn mib(what: String, kib: Option<u64>, target: f64) -> Goal {
        Goal {
            what,
            value: kib.map(mib),
            target,
            unit: " MiB",
        }
    }
}

impl Results<'_> {
    fn scale_median(&self, runtime: &str) -> Option<f64> {
        let s = self.scale.iter().find(|s| s.runtime == runtime)?;
        s.summary().map(|s| s.median)
    }

    fn detached_median(&self, runtime: &str, of: fn(&Detached) -> Option<Summary>) -> Option<f64> {
        let d = self.detached.iter().find(|d| d.runtime == runtime)?;
        of(d).map(|s| s.median)
    }

    pub fn goals(&self) -> Vec<Goal> {
        let mut goals = Vec::new();
        for v in super::bundle::VARIANTS.iter().map(|v| v.name) {
            let crun = self.median(v, "crun");
            let unconfined = self.median(v, BOX_UNCONFINED);
            goals.push(Goal::ratio(
                format!("{v}: box (unconfined) / crun"),
                ratio(unconfined, crun),
                0.55,
            ));
            goals.push(Goal::ratio(
                format!("{v}: box (unconfined) / unshare floor"),
                ratio(unconfined, self.floor()),
                1.5,
            ));
            // crun runs unconfined too: the default profile must pay for itself.
            goals.push(Goal::ratio(
                format!("{v}: box (default seccomp) / crun"),
                ratio(self.median(v, BOX_DEFAULT), crun),
                0.6,
            ));
        }
        let base = self.median("base", BOX_UNCONFINED);
        let bridged = self.median(super::network::VARIANT, BOX_UNCONFINED);
        goals.push(Goal {
            what: "bridged (one published port) - base (none), box (unconfined)".into(),
            value: bridged.zip(base).map(|(b, n)| b - n),
            target: 2.0,
            unit: " ms",
        });
        for label in [BOX_UNCONFINED, BOX_DEFAULT] {
            goals.push(Goal::mib(
                format!("peak RSS of {label}, base"),
                self.rss("base", label),
                2.0,
            ));
        }
        let alone = self
            .resident
            .iter()
            .find(|r| r.label == BOX_UNCONFINED)
            .and_then(|r| r.median())
            .map(|l| l.kept_memory.private());
        goals.push(Goal::mib(
            "monitor's Private_*, one container alone".into(),
            alone,
            0.5,
        ));
        let crowd = self
            .detached
            .iter()
            .find(|d| d.runtime == BOX_UNCONFINED)
            .and_then(Detached::kept_median);
        goals.push(Goal::mib(
            format!("monitor's Private_*, each of {} running", self.opts.scale),
            crowd.map(|m| m.private()),
            0.5,
        ));
        goals.push(Goal::ratio(
            format!("{} detached starts: box / crun", self.opts.scale),
            ratio(
                self.detached_median(BOX_UNCONFINED, Detached::start),
                self.detached_median("crun", Detached::start),
            ),
            0.7,
        ));
        goals.push(Goal::ratio(
            format!(
                "{} foreground starts (/bin/true): box / crun",
                self.opts.scale
            ),
            ratio(self.scale_median(BOX_UNCONFINED), self.scale_median("crun")),
            0.7,
        ));
        let failed = self
            .scale
            .iter()
            .filter(|s| s.runtime.starts_with("box"))
            .map(|s| s.failures)
            .chain(
                self.detached
                    .iter()
                    .filter(|d| d.runtime.starts_with("box"))
                    .map(|d| d.failures),
            )
            .sum::<usize>();
        goals.push(Goal {
            what: "failed starts of box in the scale runs".into(),
            value: Some(failed as f64),
            target: 0.0,
            unit: "",
        });
        goals.push(Goal::ratio(
            "image pull + unpack: box / (skopeo + umoci)".into(),
            self.pull.ratio(),
            0.7,
        ));
        goals.push(Goal::ms(
            "box up: image (overlay) root - directory root, state on a tmpfs".into(),
            self.overlay.added_ms(),
            0.5,
        ));
        goals
    }
}
