//! box-cgroup
