//! The `callconf` command line. Thin: parse, call the library, print.

use anyhow::Result;

/// The simulator allocates and frees many small objects per call; mimalloc does that several
/// times faster than glibc's allocator (measured: see the load issue's note).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
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
    /// Run a YAML load scenario in the deterministic simulator and report SIPp-style statistics.
    Load(callconf::load::LoadArgs),
    /// Merge shard reports of one scenario and seed (exact: histograms merge losslessly).
    Merge(callconf::load::MergeArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo => {
            let lines = callconf::demo::run()?;
            print!("{}", callconf::demo::render(&lines));
        }
        Command::Load(args) => std::process::exit(callconf::load::load(&args)?),
        Command::Merge(args) => std::process::exit(callconf::load::merge(&args)?),
    }
    Ok(())
}
