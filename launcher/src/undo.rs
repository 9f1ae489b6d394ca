//! What a start made on the host — an overlay root's upper directory, a cgroup; a network
//! link, published ports, an allocated address — kept as a stack of things to undo, unwound
//! last-made first when the start fails or when the container ends. A layer whose `create`
//! makes something pushes it here, so that no failure path has to know what the steps before
//! it made.

use std::sync::Arc;

use box_cgroup::Cgroup;

use crate::Error;

/// One thing to remove.
pub(crate) trait Undo {
    fn undo(self: Box<Self>) -> Result<(), Error>;
}

#[derive(Default)]
pub(crate) struct UndoStack(Vec<Box<dyn Undo>>);

impl UndoStack {
    pub(crate) fn push(&mut self, entry: impl Undo + 'static) {
        self.0.push(Box::new(entry));
    }

    /// Undoes everything, last first. Every entry is tried; the first error is returned.
    pub(crate) fn unwind(&mut self) -> Result<(), Error> {
        let mut first = Ok(());
        while let Some(entry) = self.0.pop() {
            if let Err(e) = entry.undo() {
                first = first.and(Err(e));
            }
        }
        first
    }
}

/// A bridged container's place on its network: its veth, published ports, address and files
/// (and the network with its last container).
impl Undo for Arc<box_net::Attachment> {
    fn undo(self: Box<Self>) -> Result<(), Error> {
        self.release().map_err(Error::from)
    }
}

/// A container's own cgroup: removed (with whatever still runs in it) at the end. The
/// supervisor keeps reading it until then, hence the shared handle.
impl Undo for Arc<Cgroup> {
    fn undo(self: Box<Self>) -> Result<(), Error> {
        self.destroy_keep_parents().map_err(Error::from)
    }
}

/// An overlay root's upper and work directories: the container's writes go with it.
impl Undo for box_rootfs::OverlayDirs {
    fn undo(self: Box<Self>) -> Result<(), Error> {
        self.remove().map_err(Error::from)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    struct Entry(&'static str, Rc<RefCell<Vec<&'static str>>>, bool);

    impl Undo for Entry {
        fn undo(self: Box<Self>) -> Result<(), Error> {
            self.1.borrow_mut().push(self.0);
            if self.2 {
                Err(Error::InvalidSpec(self.0.into()))
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn unwinds_everything_last_first_and_keeps_the_first_error() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut stack = UndoStack::default();
        stack.push(Entry("cgroup", log.clone(), false));
        stack.push(Entry("veth", log.clone(), true));
        stack.push(Entry("address", log.clone(), true));
        let err = stack.unwind().unwrap_err();
        assert_eq!(*log.borrow(), ["address", "veth", "cgroup"]);
        assert_eq!(err.to_string(), "invalid container spec: address");
        assert!(stack.unwind().is_ok(), "nothing is undone twice");
    }
}
