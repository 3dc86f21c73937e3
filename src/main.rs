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
    /// Run the reference call server over WebSocket (`callconf-wire/1`) with an admin channel,
    /// until SIGINT or SIGTERM.
    Serve(callconf::net::serve::ServeArgs),
    /// Play a scripted multi-user session through the reference server and print its timeline.
    Demo,
    /// Run Gherkin features against the reference implementation and print a verdict per
    /// capability; exits non-zero if any scenario fails.
    Certify(CertifyArgs),
    /// Print the step catalog, with one example per step, for writing your own features.
    Steps,
    /// Run a YAML load scenario in the deterministic simulator and report SIPp-style statistics.
    Load(callconf::load::LoadArgs),
    /// Merge shard reports of one scenario and seed (exact: histograms merge losslessly).
    Merge(callconf::load::MergeArgs),
    /// Run one 1:1 call with real media (GStreamer + webrtc-rs over loopback) under a given
    /// impairment and report latency, loss, quality and time to first frame.
    Media(callconf::media::run::MediaArgs),
    /// Find how many concurrent 1:1 calls with real media (analysis on) this machine carries
    /// in real time without losing packets or falling behind.
    MediaCapacity(callconf::media::capacity::CapacityArgs),
}

#[derive(clap::Args)]
struct CertifyArgs {
    /// A directory (or file) of .feature files; repeat to run several. Default: the project's
    /// `features/`. Give it alongside your own to run both.
    #[arg(long = "features", value_name = "DIR")]
    features: Vec<std::path::PathBuf>,
    /// Only scenarios matching this tag expression, e.g. `@hold or @mute`, `not @transfer`.
    /// Scenarios tagged @known-bug are skipped unless the expression names @known-bug.
    #[arg(long, value_name = "EXPR")]
    tags: Option<String>,
    /// Only scenarios whose name or file:line contains this text.
    #[arg(long, value_name = "TEXT")]
    name: Option<String>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    junit: Option<std::path::PathBuf>,
    /// Write a Cucumber JSON report here.
    #[arg(long, value_name = "FILE")]
    json: Option<std::path::PathBuf>,
    /// Write a self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match callconf::net::serve::run(&args) {
            Ok(code) => std::process::exit(code),
            Err(e) => {
                eprintln!("error {}: {e}", e.code());
                std::process::exit(2);
            }
        },
        Command::Demo => {
            let lines = callconf::demo::run()?;
            print!("{}", callconf::demo::render(&lines));
        }
        Command::Certify(args) => {
            if !certify(args)? {
                std::process::exit(1);
            }
        }
        Command::Steps => print!("{}", callconf::conformance::catalog::render()),
        Command::Load(args) => std::process::exit(callconf::load::load(&args)?),
        Command::Merge(args) => std::process::exit(callconf::load::merge(&args)?),
        Command::Media(args) => std::process::exit(callconf::media::run::run(&args)?),
        Command::MediaCapacity(args) => std::process::exit(callconf::media::capacity::run(&args)?),
    }
    Ok(())
}

/// Runs `callconf certify`; returns whether every scenario passed.
fn certify(args: CertifyArgs) -> Result<bool> {
    use callconf::conformance;
    let features = if args.features.is_empty() {
        vec![conformance::default_features_dir()]
    } else {
        args.features
    };
    let opts = conformance::RunOptions {
        features,
        tags: args.tags,
        name: args.name,
        junit: args.junit.clone(),
        json: args.json.clone(),
        concurrency: None,
    };
    let report = match conformance::run(&opts) {
        Ok(report) => report,
        Err(e) => {
            // Bad input (a path, a feature file, a tag expression): say what and where, exit 2.
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    print!("{}", conformance::report::table::render(&report));
    if let Some(path) = &args.html {
        conformance::write_html(&report, path)?;
    }
    for (what, path) in [
        ("JUnit", &args.junit),
        ("JSON", &args.json),
        ("HTML", &args.html),
    ] {
        if let Some(p) = path {
            println!("{what} report: {}", p.display());
        }
    }
    Ok(report.ok())
}
