//! box-rootfs
