//! Attacks on box's boundaries, from inside a container, alongside it or from the command
//! line, each followed by a look at the host: its mount table, a sysctl's value, a device's
//! content, a marker file that must not exist.

mod devices;
mod logs;
mod masks;
mod names;
mod rootfs;
