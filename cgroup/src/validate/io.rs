//! `io_weight` and the four per-device throttles: a weight in v1's range (v2's is converted
//! from it), a rate above 0, and block devices that exist on this host.

use super::{Host, Rules};
use crate::error::ValidationError;
use crate::layout::{Controller, Layout};
use crate::resources::Resources;

pub(crate) struct Io;

impl Rules for Io {
    fn controller(&self) -> Option<Controller> {
        Some(Controller::Io)
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        if res.io_weight.is_some() {
            return Some("io_weight");
        }
        let mut lists = res.io_throttles().into_iter();
        lists.find(|(_, list)| !list.is_empty()).map(|(f, _)| f)
    }

    fn reads_host(&self) -> bool {
        true
    }

    fn validate(
        &self,
        res: &Resources,
        _layout: &Layout,
        host: &Host,
    ) -> Result<(), ValidationError> {
        if let Some(w) = res.io_weight {
            if !(10..=1000).contains(&w) {
                return Err(ValidationError::new(
                    "io_weight",
                    format!("{w} is out of range 10..=1000"),
                ));
            }
        }
        for (field, list) in res.io_throttles() {
            for d in list {
                if d.rate == 0 {
                    return Err(ValidationError::new(
                        field,
                        format!("{}:{}: rate must be above 0", d.major, d.minor),
                    ));
                }
                let dev = host
                    .sys_root
                    .join(format!("dev/block/{}:{}", d.major, d.minor));
                if !dev.exists() {
                    return Err(ValidationError::new(
                        field,
                        format!("{}:{} is not a block device here", d.major, d.minor),
                    ));
                }
            }
        }
        Ok(())
    }
}
