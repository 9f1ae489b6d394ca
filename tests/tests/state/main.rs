//! Container state under concurrency, `kill -9`, damage and full disks (the reliability
//! issue's items, one test or more each), every test with a `--root` of its own. What box says
//! is checked against the kernel: processes, cgroups, the files left in the state root.

mod damaged;
mod disk;
mod starting;
mod support;
