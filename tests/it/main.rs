//! Integration tests: one binary, each test with its own table and queues on moto's server and
//! real HTTP receivers on 127.0.0.1.

mod api;
mod delivery_path;
mod harness;
mod receiver;
mod signatures;
