//! v1 pids: the same `pids.max` and `pids.current` files as on v2, so one implementation.

pub(crate) use crate::v2::pids::Pids;
