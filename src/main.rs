//! The `imagepin` binary: parse arguments, run, exit with the run's code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = imagepin::Cli::parse();
    imagepin::main(cli).into()
}
