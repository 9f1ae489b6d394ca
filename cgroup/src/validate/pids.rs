//! `pids`: -1 for no limit, else at least one task.

use super::{Host, Rules};
use crate::error::ValidationError;
use crate::layout::{Controller, Layout};
use crate::resources::Resources;

pub(crate) struct Pids;

impl Rules for Pids {
    fn controller(&self) -> Option<Controller> {
        Some(Controller::Pids)
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        res.pids.map(|_| "pids")
    }

    fn validate(
        &self,
        res: &Resources,
        _layout: &Layout,
        _host: &Host,
    ) -> Result<(), ValidationError> {
        match res.pids {
            Some(p) if p != -1 && p < 1 => Err(ValidationError::new(
                "pids",
                format!("{p}: must be -1 (unlimited) or at least 1"),
            )),
            _ => Ok(()),
        }
    }
}
