//! `hugetlb` and `rdma`: names that become file names or lines of a control file, and page
//! sizes this host has.

use super::{Host, Rules};
use crate::error::ValidationError;
use crate::layout::{Controller, Layout};
use crate::resources::Resources;

pub(crate) struct Hugetlb;

impl Rules for Hugetlb {
    fn controller(&self) -> Option<Controller> {
        Some(Controller::Hugetlb)
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        (!res.hugetlb.is_empty()).then_some("hugetlb")
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
        let have = host_page_sizes(host);
        for l in &res.hugetlb {
            let Some(kb) = page_size_kb(&l.page_size) else {
                return Err(ValidationError::new(
                    "hugetlb",
                    format!(
                        "page size {:?}: not a size like 2MB, 1GB or 64KB",
                        l.page_size
                    ),
                ));
            };
            if !have.contains(&kb) {
                return Err(ValidationError::new(
                    "hugetlb",
                    format!(
                        "page size {}: this host has no such huge pages (it has {})",
                        l.page_size,
                        have.iter()
                            .map(|kb| page_size_name(*kb))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `2MB` → 2048 (kB); the kernel's names, `KB`, `MB` or `GB` after a number.
pub(crate) fn page_size_kb(name: &str) -> Option<u64> {
    let (digits, unit) = name.split_at(name.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = digits.parse().ok()?;
    let shift = match unit {
        "KB" => 0,
        "MB" => 10,
        "GB" => 20,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

/// 2048 → `2MB`, as the kernel names the files.
fn page_size_name(kb: u64) -> String {
    match kb {
        kb if kb >= 1 << 20 && kb % (1 << 20) == 0 => format!("{}GB", kb >> 20),
        kb if kb >= 1 << 10 && kb % (1 << 10) == 0 => format!("{}MB", kb >> 10),
        kb => format!("{kb}KB"),
    }
}

/// The huge page sizes in kB that `sys/kernel/mm/hugepages` lists (`hugepages-2048kB`).
fn host_page_sizes(host: &Host) -> Vec<u64> {
    let Ok(dir) = std::fs::read_dir(host.sys_root.join("kernel/mm/hugepages")) else {
        return Vec::new();
    };
    let mut sizes: Vec<u64> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()
        })
        .collect();
    sizes.sort_unstable();
    sizes
}

pub(crate) struct Rdma;

impl Rules for Rdma {
    fn controller(&self) -> Option<Controller> {
        Some(Controller::Rdma)
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        (!res.rdma.is_empty()).then_some("rdma")
    }

    fn validate(
        &self,
        res: &Resources,
        _layout: &Layout,
        _host: &Host,
    ) -> Result<(), ValidationError> {
        // A device name is the first word of a line of rdma.max: one word, nothing else.
        for device in res.rdma.keys() {
            let word =
                !device.is_empty() && device.bytes().all(|b| b.is_ascii_graphic() && b != b'=');
            if !word {
                return Err(ValidationError::new(
                    "rdma",
                    format!("device {device:?}: not an RDMA device name"),
                ));
            }
        }
        Ok(())
    }
}
