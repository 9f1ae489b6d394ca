//! hugetlb, on both versions: one limit per huge page size, in bytes. v1 names the file
//! `hugetlb.<size>.limit_in_bytes`, v2 `hugetlb.<size>.max`; `<size>` is the kernel's name of
//! the page size (`2MB`, `1GB`, `64KB`).

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::Resources;
use crate::subsystem::Subsystem;

/// The hugetlb controller, its limit file named by `suffix`.
pub(crate) struct Hugetlb {
    suffix: &'static str,
}

pub(crate) static V1: Hugetlb = Hugetlb {
    suffix: "limit_in_bytes",
};
pub(crate) static V2: Hugetlb = Hugetlb { suffix: "max" };

impl Subsystem for Hugetlb {
    fn controller(&self) -> Controller {
        Controller::Hugetlb
    }

    fn wanted(&self, res: &Resources) -> bool {
        !res.hugetlb.is_empty()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        for l in &res.hugetlb {
            let file = format!("hugetlb.{}.{}", l.page_size, self.suffix);
            fs::write(dir, &file, &l.limit.to_string())?;
        }
        Ok(())
    }

    fn read_limits(&self, _dir: &Dir, _out: &mut Limits) -> Result<(), Error> {
        Ok(())
    }

    fn stats(&self, _dir: &Dir, _out: &mut Stats) -> Result<(), Error> {
        Ok(())
    }
}
