//! `hookrelay`, the command-line tool: a typed client of the API ([`api`]), the settings'
//! precedence ([`profile`]), and one module per group of commands ([`commands`]). The pure
//! parts (precedence, masking, request parsing, event files, the tail's change detection,
//! formatting) are unit-tested here; `tests/` drives the built binary.

pub mod api;
pub mod args;
pub mod args_queues;
pub mod client;
pub mod commands;
pub mod exit;
pub mod model;
pub mod output;
pub mod profile;
pub mod progress;
pub mod request_text;
