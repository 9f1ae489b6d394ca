//! v2 cpuset: the same `cpuset.cpus`/`cpuset.mems` files as v1, but an empty file means
//! "inherit the parent's", so a new cgroup needs no copying.

pub(crate) use crate::v1::Cpuset;
