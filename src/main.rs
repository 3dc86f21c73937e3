//! The `callconf` command line. Thin: parse, call the library, print.

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "callconf",
    version,
    about = "Conformance suite and simulator for calling SDKs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Play a scripted multi-user session through the reference server and print its timeline.
    Demo,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo => {
            let lines = callconf::demo::run()?;
            print!("{}", callconf::demo::render(&lines));
        }
    }
    Ok(())
}
