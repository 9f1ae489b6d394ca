//! cgroup v1: one hierarchy per controller (or group of co-mounted controllers), each with its
//! own files and names.

mod blkio;
mod cpu;
mod cpuacct;
mod cpuset;
pub(crate) mod devices;
pub(crate) mod freezer;
pub(crate) mod hugetlb;
mod memory;
mod pids;
pub(crate) mod rdma;

pub(crate) use cpuset::{inherit as cpuset_inherit, Cpuset, Placement};

use crate::subsystem::Subsystem;

/// Every v1 controller box writes or reads.
pub(crate) static SUBSYSTEMS: [&dyn Subsystem; 8] = [
    &memory::Memory,
    &cpu::Cpu,
    &cpuacct::Cpuacct,
    &cpuset::Cpuset,
    &pids::Pids,
    &blkio::Blkio,
    &hugetlb::V1,
    &rdma::Rdma,
];

#[cfg(test)]
mod tests;
