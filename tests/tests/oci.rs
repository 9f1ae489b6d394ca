//! box as an OCI runtime (box-runc), end to end: driven directly on a bundle, then under
//! podman, containerd and Docker, each started by its test with its own state, socket and
//! cgroup subtree, and stopped with everything it made removed.

#[path = "oci/support.rs"]
mod support;

#[path = "oci/direct.rs"]
mod direct;

#[path = "oci/honoured.rs"]
mod honoured;

#[path = "oci/mounts.rs"]
mod mounts;

#[path = "oci/nopivot.rs"]
mod nopivot;

#[path = "oci/events.rs"]
mod events;

#[path = "oci/create_hooks.rs"]
mod create_hooks;

#[path = "oci/podman.rs"]
mod podman;

#[path = "oci/docker.rs"]
mod docker;

#[path = "oci/containerd.rs"]
mod containerd;
