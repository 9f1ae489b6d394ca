//! The root filesystem layer's part in starting a container, in the shape every box layer
//! has: [`prepare`] in the parent before the clone ([`check`]: the root and bind sources exist,
//! the root is not the host's `/`, every container path is sound), then
//! [`Prepared::apply`] in the child, in its new mount namespace ([`setup`]).

use crate::{check, setup, Error, RootfsConfig};

/// Checks `cfg` before anything exists; nothing is created.
pub fn prepare(cfg: &RootfsConfig) -> Result<Prepared, Error> {
    check(cfg)?;
    Ok(Prepared(cfg.clone()))
}

/// A root filesystem ready to be built.
#[derive(Debug, Clone)]
pub struct Prepared(RootfsConfig);

impl Prepared {
    /// Child, in its own mount namespace: builds the root and moves into it ([`setup`]).
    pub fn apply(&self) -> Result<(), Error> {
        setup(&self.0)
    }

    /// The configuration it was prepared from.
    pub fn config(&self) -> &RootfsConfig {
        &self.0
    }
}
