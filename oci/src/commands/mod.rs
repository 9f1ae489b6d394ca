pub mod control;
pub mod events;
pub mod exec;
pub mod info;
pub mod lifecycle;
pub mod query;
