//! Integration tests: one binary, each test with its own table and queues on moto's server and
//! real HTTP receivers on 127.0.0.2 (the stack's own services are on 127.0.0.1, outside the
//! allowlist).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod cli;
mod console;
mod contract;
mod delivery_path;
mod fault_cases;
mod faults;
mod hardening;
mod harness;
mod hostile;
mod loops;
mod product_api;
mod receiver;
mod recipes;
mod secrets_at_rest;
mod signatures;
mod sources;
mod ssrf;
