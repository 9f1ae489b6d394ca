//! cgroup v2: one unified hierarchy; a controller works in a cgroup only once every
//! ancestor has enabled it in `cgroup.subtree_control`.

mod cpu;
mod cpuset;
mod io;
mod memory;
pub(crate) mod pids;

use crate::subsystem::Subsystem;

/// Every v2 controller box writes or reads.
pub(crate) static SUBSYSTEMS: [&dyn Subsystem; 7] = [
    &memory::Memory,
    &cpu::Cpu,
    &cpuset::Cpuset,
    &pids::Pids,
    &io::Io,
    &crate::v1::hugetlb::V2,
    &crate::v1::rdma::Rdma,
];

#[cfg(test)]
mod tests;
