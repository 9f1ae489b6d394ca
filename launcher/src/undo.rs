//! What a start made on the host — an overlay root's upper directory, a cgroup; a network
//! link, published ports, an allocated address — kept as a stack of things to undo, unwound
//! last-made first when the start fails or when the container ends. A layer whose `create`
//! makes something pushes it here, so that no failure path has to know what the steps before
//! it made.

use std::sync::Arc;
use std::time::Instant;

use box_cgroup::Cgroup;

use crate::{Error, Step, Timing};

/// One thing to remove.
pub(crate) trait Undo {
    /// What `--timings` calls its removal.
    fn step(&self) -> Step;
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
        self.unwind_timed(None)
    }

    /// [`UndoStack::unwind`], adding how long each removal took to `timings` when given.
    pub(crate) fn unwind_timed(
        &mut self,
        mut timings: Option<&mut Vec<Timing>>,
    ) -> Result<(), Error> {
        let mut first = Ok(());
        while let Some(entry) = self.0.pop() {
            let step = entry.step();
            let started = timings.is_some().then(Instant::now);
            let undone = entry.undo();
            if let (Some(rows), Some(started)) = (timings.as_deref_mut(), started) {
                rows.push(Timing {
                    step,
                    elapsed: started.elapsed(),
                });
            }
            if let Err(e) = undone {
                first = first.and(Err(e));
            }
        }
        first
    }
}

/// A bridged container's place on its network: its veth, published ports, address and files
/// (and the network with its last container).
impl Undo for Arc<box_net::Attachment> {
    fn step(&self) -> Step {
        Step::ReleaseNetwork
    }

    fn undo(self: Box<Self>) -> Result<(), Error> {
        self.release().map_err(Error::from)
    }
}

/// A container's own cgroup: removed (with whatever still runs in it) at the end. The
/// supervisor keeps reading it until then, hence the shared handle.
impl Undo for Arc<Cgroup> {
    fn step(&self) -> Step {
        Step::RemoveCgroup
    }

    fn undo(self: Box<Self>) -> Result<(), Error> {
        self.destroy_keep_parents().map_err(Error::from)
    }
}

/// An overlay root's upper and work directories: the container's writes go with it.
impl Undo for box_rootfs::OverlayDirs {
    fn step(&self) -> Step {
        Step::RemoveRootfsDirs
    }

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
        fn step(&self) -> Step {
            Step::RemoveCgroup
        }

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

    #[test]
    fn a_timed_unwind_names_each_removal() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut stack = UndoStack::default();
        stack.push(Entry("cgroup", log.clone(), false));
        stack.push(Entry("failing", log.clone(), true));
        let mut rows = Vec::new();
        assert!(stack.unwind_timed(Some(&mut rows)).is_err());
        let steps: Vec<Step> = rows.iter().map(|r| r.step).collect();
        assert_eq!(steps, [Step::RemoveCgroup, Step::RemoveCgroup]);
    }
}
