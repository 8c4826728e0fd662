//! Local stand-ins for what AWS does around the functions.

pub mod poller;
pub mod schedule;
