//! Wiring only: parse the command line (clap exits 2 on a usage error), run the command, print
//! its error (as JSON with `--output json`) and exit with its code.

use std::process::ExitCode;

use clap::Parser;
use hookrelay_cli::args::{Cli, Output};
use hookrelay_cli::exit::Exit;
use hookrelay_cli::{commands, output};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.global.output == Output::Json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            output::error(&format!("cannot start: {e}"));
            return Exit::Failure.code();
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => Exit::Ok.code(),
        Err(e) => {
            // One JSON document on stdout: a summary already printed stands for the error.
            if json && !output::printed_json() {
                let _ = output::print_json(&e.to_json());
            }
            output::error(&e.to_string());
            e.exit().code()
        }
    }
}
