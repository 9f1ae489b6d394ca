//! Attacks on box's boundaries from inside a container (or from the command line), each
//! checked on the host afterwards.

mod logs;
mod names;
