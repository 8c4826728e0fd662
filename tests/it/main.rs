//! Integration tests: one binary, each test with its own table and queues on moto's server and
//! real HTTP receivers on 127.0.0.1.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod contract;
mod delivery_path;
mod fault_cases;
mod faults;
mod hardening;
mod harness;
mod hostile;
mod product_api;
mod receiver;
mod recipes;
mod signatures;
mod ssrf;
