//! The queues an operator works on: the dead-letter queue and the rejected-events queue.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum DlqCmd {
    /// How many messages the dead-letter queue holds.
    Status,
    /// Move every DLQ message back to the delivery queue: calls the redrive route until it
    /// moves nothing more (each call moves what it can within its time budget).
    Redrive,
}

#[derive(Debug, Subcommand)]
pub enum RejectedCmd {
    /// What the rejected-events queue holds, each with its reason (a look: nothing is taken).
    List {
        /// At most this many (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Submit them again after a fix (a tenant created, a type catalogued): calls the resubmit
    /// route until a call handles nothing more; accepted ones leave the queue, refused ones go
    /// back with their new reason.
    Resubmit,
}
