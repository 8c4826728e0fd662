//! Issue 9's benchmark (`scripts/bench`): what a delivery costs and how fast the functions are,
//! measured on the wire. The functions run as Lambda processes against a stand-in Runtime API
//! ([`runtime`], [`function`]); their AWS calls go through a counting proxy ([`proxy`]) to moto,
//! billed by DynamoDB's and SQS's rules ([`units`], [`ddb`], [`meter`]); an event source
//! mapping stand-in ([`esm`]) feeds the delivery function; [`cost`] turns the measurements into
//! dollars; [`report`] prints the goals table and writes the JSON, [`snippet`] the README section.
//! Nothing here reads the project's store code: table keys and index projections come from
//! DescribeTable, item sizes from the request and response bodies.

pub mod api;
pub mod baseline;
pub mod cost;
pub mod ddb;
pub mod doors;
pub mod esm;
pub mod function;
pub mod meter;
pub mod procstat;
pub mod proxy;
pub mod receiver;
pub mod report;
pub mod reread;
pub mod runtime;
pub mod scenario;
pub mod selfcheck;
pub mod snippet;
pub mod stack;
pub mod units;
