//! `unified`: raw cgroup2 files. Each must be a control file of a controller that cgroup2
//! has here (on a hybrid host, one that no v1 hierarchy holds), and none of the files
//! through which box itself manages the cgroup (its processes, its children, freezing).

use super::{Host, Rules};
use crate::error::ValidationError;
use crate::layout::{Controller, Layout};
use crate::resources::Resources;

/// The core `cgroup.*` files a container may set; the others move processes, kill, freeze or
/// enable controllers: box's to write.
const CORE_FILES: [&str; 2] = ["cgroup.max.depth", "cgroup.max.descendants"];

pub(crate) struct Unified;

impl Rules for Unified {
    fn controller(&self) -> Option<Controller> {
        None
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        (!res.unified.is_empty()).then_some("unified")
    }

    fn validate(
        &self,
        res: &Resources,
        layout: &Layout,
        _host: &Host,
    ) -> Result<(), ValidationError> {
        let err =
            |key: &str, why: String| ValidationError::new("unified", format!("{key:?}: {why}"));
        if layout.v2_root().is_none() {
            return Err(ValidationError::new(
                "unified",
                "this host has no cgroup2 hierarchy",
            ));
        }
        for (key, value) in &res.unified {
            let plain = key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
            let Some((prefix, _)) = key.split_once('.').filter(|_| plain) else {
                return Err(err(key, "not the name of a cgroup2 control file".into()));
            };
            if value.contains('\0') {
                return Err(err(key, "the value holds a NUL byte".into()));
            }
            if prefix == "cgroup" {
                if !CORE_FILES.contains(&key.as_str()) {
                    return Err(err(key, "box manages this file itself".into()));
                }
                continue;
            }
            let Some(c) = Controller::from_v2_name(prefix) else {
                return Err(err(key, format!("{prefix:?} is no cgroup2 controller")));
            };
            if !layout.v2_controllers().contains(&c) {
                let why = match layout.location(c) {
                    Some(_) => {
                        format!("the {c} controller is on a v1 hierarchy here, not on cgroup2")
                    }
                    None => format!("the {c} controller is not enabled on this host's cgroup2"),
                };
                return Err(err(key, why));
            }
        }
        Ok(())
    }
}

impl Resources {
    /// The controllers whose files `unified` sets (`memory.high` → memory).
    pub(crate) fn unified_controllers(&self) -> impl Iterator<Item = Controller> + '_ {
        self.unified
            .keys()
            .filter_map(|k| k.split_once('.'))
            .filter_map(|(prefix, _)| Controller::from_v2_name(prefix))
    }
}
