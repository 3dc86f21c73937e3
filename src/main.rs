//! The `callconf` command line. Thin: parse, call the library, print.

use anyhow::{Context as _, Result};

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
    /// The reference client behind the driver protocol (`callconf-driver/1` on standard input
    /// and output), talking to a `callconf serve`: the adapter `certify --adapter` drives.
    Adapter(callconf::driver::adapter::AdapterArgs),
    /// Play a scripted multi-user session through the reference server and print its timeline.
    Demo,
    /// Run Gherkin features against the reference implementation and print a verdict per
    /// capability; exits non-zero if any scenario fails.
    Certify(Box<CertifyArgs>),
    /// Run random cases against a system under test (devices behind an adapter, or the reference
    /// in process), compare every answer, event and call state with the model, and shrink a
    /// failure to a minimal case written as a feature file. Exits 1 when a failure is found.
    Explore(callconf::explore::cli::ExploreArgs),
    /// Print the step catalog, with one example per step, for writing your own features.
    Steps,
    /// Write an ed25519 key pair for signing certificates: the private key to PREFIX (owner
    /// only), the public key to PREFIX.pub.
    Keygen {
        #[arg(long, value_name = "PREFIX")]
        out: std::path::PathBuf,
    },
    /// Check a certificate bundle (`certify --out`): signature, file hashes, suite, a re-grade of
    /// every scenario from its transcript, and the certification policy. Exits 1 on any problem.
    Verify {
        /// The bundle's directory.
        dir: std::path::PathBuf,
        /// The signer's public key (PREFIX.pub from `callconf keygen`): the bundle must be
        /// signed with it.
        #[arg(long, value_name = "FILE")]
        public_key: Option<std::path::PathBuf>,
    },
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
    /// Drive devices behind this adapter (`callconf-driver/1` over its standard input and
    /// output, docs/driver-protocol.md), against a `callconf serve --clock manual` of its own,
    /// e.g. `--adapter 'callconf adapter'`. `web` (or `web PAGE.html`) is the built-in web
    /// adapter: headless Chromium hosting `adapters/web/` (or your page), dialing in.
    #[arg(long, value_name = "CMD")]
    adapter: Option<String>,
    /// With --adapter: the WebSocket transport. callconf listens on ADDR and starts CMD with
    /// the URL to dial (one-time token included) in CALLCONF_DRIVER_URL; `web` dials in anyway
    /// (by default on a free loopback port).
    #[arg(long, value_name = "ADDR", requires = "adapter")]
    adapter_listen: Option<std::net::SocketAddr>,
    /// With --adapter: the devices of USER go through another adapter, CMD (a command over
    /// stdio, or `web`), e.g. `--adapter web --adapter-for 'bob=callconf adapter'`; repeatable.
    #[arg(long, value_name = "USER=CMD", requires = "adapter", value_parser = parse_route)]
    adapter_for: Vec<callconf::driver::fleet::Route>,
    /// With --adapter: how long to wait for each adapter response and for events, in ms.
    #[arg(long, default_value_t = 5000, value_name = "N")]
    deadline_ms: u64,
    /// With --adapter: how long nothing more must arrive before a device is taken as done, ms.
    #[arg(long, default_value_t = 2, value_name = "N")]
    quiet_ms: u64,
    /// With --adapter: start the server with this deliberate bug switched on (repeatable).
    #[arg(long = "inject-fault", value_name = "NAME")]
    inject_fault: Vec<String>,
    /// With --adapter: run in real time (the server certify starts runs on the wall clock;
    /// `N seconds pass` really waits, up to 10 s) even where the clock could be driven.
    #[arg(long)]
    real_time: bool,
    /// With --adapter: use this running `callconf serve` (its device URL, `ws://HOST:PORT`)
    /// instead of starting one; needs --admin and --admin-token-file. Every scenario resets it.
    #[arg(long, value_name = "URL", requires_all = ["admin", "admin_token_file"])]
    server: Option<String>,
    /// With --server: the server's admin URL.
    #[arg(long, value_name = "URL", requires = "server")]
    admin: Option<String>,
    /// Run and grade under this dialect: a built-in profile (canonical, mirrorfly, cometchat,
    /// stringee, voximplant, stream) or a profile file. The reference server emulates it; a
    /// scenario needing a capability it lacks is unimplemented (docs/profiles.md).
    #[arg(long, value_name = "NAME", conflicts_with = "matrix")]
    profile: Option<String>,
    /// A testing aid: the reference server emulates this dialect while scenarios are graded
    /// under --profile, to show that a server of one dialect fails another's certification
    /// exactly where the two differ.
    #[arg(long, value_name = "NAME", requires = "profile")]
    emulate: Option<String>,
    /// Also run the boundary scenarios generated from the profile's limits (at each limit and
    /// one over; every DTMF character in and out of the dialect's set).
    #[arg(long)]
    boundaries: bool,
    /// Run the suite under every built-in profile and print the capability × dialect matrix
    /// (passed/failed/unimplemented per cell); --json writes the matrix, --html the canonical
    /// run's report with the matrix as a section. Exit 1 only when a scenario broke (error):
    /// failures are expected where dialects differ.
    #[arg(long, conflicts_with = "junit")]
    matrix: bool,
    /// With --server: a file holding the server's admin token.
    #[arg(long, value_name = "FILE", requires = "server")]
    admin_token_file: Option<std::path::PathBuf>,
    /// With --adapter: write a signed certificate bundle into this (new or empty) directory
    /// (docs/certification.md); needs --sign-key.
    #[arg(long, value_name = "DIR", requires_all = ["adapter", "sign_key"], conflicts_with = "matrix")]
    out: Option<std::path::PathBuf>,
    /// The private key (from `callconf keygen`) that signs the bundle's manifest.
    #[arg(long, value_name = "PREFIX", requires = "out")]
    sign_key: Option<std::path::PathBuf>,
}

/// `certify --matrix`: the suite under every built-in profile, as a capability × dialect table.
fn matrix(
    opts: &callconf::conformance::RunOptions,
    json: Option<&std::path::Path>,
    html: Option<&std::path::Path>,
) -> Result<bool> {
    use callconf::conformance::report::matrix;
    let opts = callconf::conformance::RunOptions {
        json: None,
        ..opts.clone()
    };
    let result = matrix::run_matrix(&opts);
    if let Some(rig) = &opts.rig {
        rig.stop();
    }
    let m = match result {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    print!("{}", matrix::table(&m));
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(&m)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("JSON matrix: {}", path.display());
    }
    if let Some(path) = html {
        std::fs::write(path, matrix::html_page(&m))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("HTML report: {}", path.display());
    }
    Ok(m.complete())
}

/// Set by `certify`'s Ctrl-C handler before it kills the adapter, so that the adapter's death
/// it caused is not reported as a failure to start.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

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
        Command::Adapter(args) => std::process::exit(callconf::driver::adapter::run(&args)?),
        Command::Demo => {
            let lines = callconf::demo::run()?;
            print!("{}", callconf::demo::render(&lines));
        }
        Command::Certify(args) => {
            if !certify(*args)? {
                std::process::exit(1);
            }
        }
        Command::Explore(args) => {
            match callconf::explore::cli::run(&args, &std::env::current_exe()?) {
                Ok(code) => std::process::exit(code),
                Err(e) => {
                    eprintln!("error {}: {e}", e.code());
                    std::process::exit(2);
                }
            }
        }
        Command::Steps => print!("{}", callconf::conformance::catalog::render()),
        Command::Keygen { out } => match callconf::certificate::keys::generate(&out) {
            Ok(public) => println!(
                "private key: {} (keep it secret)\npublic key:  {} ({public})",
                out.display(),
                callconf::certificate::keys::public_path(&out).display()
            ),
            Err(e) => {
                eprintln!("error {}: {e}", e.code());
                std::process::exit(2);
            }
        },
        Command::Verify { dir, public_key } => {
            match callconf::certificate::verify::verify(&dir, public_key.as_deref()) {
                Ok(v) => {
                    let m = &v.manifest;
                    println!(
                        "verified: {} {} through {} {}, profile {}: {} scenarios re-graded \
                         from the transcript, {} passed; signed by {}",
                        m.sut.sdk.name,
                        m.sut.sdk.version,
                        m.sut.adapter.name,
                        m.sut.adapter.version,
                        m.profile.name,
                        v.report.scenarios.len(),
                        v.report.passed(),
                        m.signer_public_key
                    );
                }
                Err(e) => {
                    println!("NOT VERIFIED: error {}: {e}", e.code());
                    std::process::exit(1);
                }
            }
        }
        Command::Load(args) => {
            if !args.realtime {
                keep_freed_memory();
            }
            std::process::exit(callconf::load::load(&args)?)
        }
        Command::Merge(args) => std::process::exit(callconf::load::merge(&args)?),
        Command::Media(args) => std::process::exit(callconf::media::run::run(&args)?),
        Command::MediaCapacity(args) => std::process::exit(callconf::media::capacity::run(&args)?),
    }
    Ok(())
}

/// Tells the allocator to keep memory it has freed instead of handing it back to the OS after its
/// default 10 ms. Why, and why only for a virtual-time run: the simulator runs its cells one after
/// another on each thread, and each cell frees its tables (megabytes) when it ends, just before
/// the next allocates the same again; handed back, every page of them faulted in anew, zeroed by
/// the kernel, cold. Kept, the next cell reuses them: `scenarios/million.yaml` ran about 10% faster
/// (see docs/scenarios.md). A long-lived server should give memory back, so it keeps the default.
fn keep_freed_memory() {
    /// `mi_option_purge_delay` in mimalloc v2's `mimalloc.h` (`mi_option_e`): the option's
    /// position there, as libmimalloc-sys names only some options.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets one of mimalloc's runtime options, which may be set at any time (the value -1
    // is documented: "no purging at all"); it touches no Rust-visible memory.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// `--adapter-for USER=CMD`.
fn parse_route(text: &str) -> Result<callconf::driver::fleet::Route, String> {
    let (user, command) = text
        .split_once('=')
        .filter(|(u, c)| !u.is_empty() && !u.contains('/') && !c.trim().is_empty())
        .ok_or_else(|| format!("`{text}` is not USER=CMD"))?;
    Ok(callconf::driver::fleet::Route {
        user: user.to_owned(),
        launch: callconf::driver::remote::Launch::new(command, None),
    })
}

/// The profile `name` names (none for `None`); an unknown one ends the process with its code.
fn resolve_profile(name: Option<&str>) -> Option<callconf::profile::Profile> {
    match callconf::profile::Profile::resolve(name?) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("error {}: {e}", e.code());
            std::process::exit(2);
        }
    }
}

/// Runs `callconf certify`; returns whether every scenario passed.
fn certify(args: CertifyArgs) -> Result<bool> {
    use callconf::conformance;
    let features = if args.features.is_empty() {
        vec![conformance::default_features_dir()]
    } else {
        args.features
    };
    let started_at = std::time::SystemTime::now();
    // The dialect graded against, for a certificate: its name and the text it was read from.
    let profile_name = args.profile.clone().unwrap_or_else(|| "canonical".into());
    let profile_text = if args.out.is_some() {
        callconf::profile::Profile::source_text(&profile_name)
            .map_err(|e| anyhow::anyhow!("error {}: {e}", e.code()))?
    } else {
        String::new()
    };
    let transcript = args
        .out
        .as_ref()
        .map(|_| conformance::rig_client::Transcript::default());
    // Read the key before the run: a bad key should not cost a whole run.
    let sign_key = args
        .sign_key
        .as_deref()
        .map(callconf::certificate::keys::read_private)
        .transpose()
        .map_err(|e| anyhow::anyhow!("error {}: {e}", e.code()))?;
    let profile = resolve_profile(args.profile.as_deref());
    let emulate = resolve_profile(args.emulate.as_deref());
    let rig = match &args.adapter {
        None => None,
        Some(adapter) => {
            let server = match (&args.server, &args.admin, &args.admin_token_file) {
                (Some(devices), Some(admin), Some(file)) => {
                    let admin_token = callconf::net::serve::read_token_file(file)
                        .map_err(|e| anyhow::anyhow!("error {}: {e}", e.code()))?;
                    Some(conformance::rig::ExternalServer {
                        devices_url: devices.clone(),
                        admin_url: admin.clone(),
                        admin_token,
                    })
                }
                _ => None,
            };
            // Ctrl-C and SIGTERM run no destructors: kill the adapter (a browser and all it
            // started) and remove its scratch directory here.
            let _ = ctrlc::set_handler(|| {
                INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
                callconf::driver::peer::kill_all();
                std::process::exit(130);
            });
            let config = conformance::rig::RigConfig {
                adapter: callconf::driver::remote::Launch::new(adapter, args.adapter_listen),
                routes: args.adapter_for.clone(),
                serve_binary: std::env::current_exe()?,
                faults: args.inject_fault.clone(),
                deadline: std::time::Duration::from_millis(args.deadline_ms),
                quiet: std::time::Duration::from_millis(args.quiet_ms),
                clock: if args.real_time {
                    callconf::server::ClockMode::Wall
                } else {
                    callconf::server::ClockMode::Manual
                },
                server,
                profile: args.profile.clone(),
            };
            match conformance::rig::RigClient::start(config, transcript.clone()) {
                Ok(rig) => Some(rig),
                Err(_) if INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) => {
                    // Ctrl-C while the adapter started: the handler killed it and is exiting
                    // with 130; this is not a failure to start (bounded, in case it is slow).
                    std::thread::sleep(std::time::Duration::from_secs(10));
                    std::process::exit(130);
                }
                Err(e) => {
                    eprintln!("error: cannot start the system under test: {e}");
                    std::process::exit(2);
                }
            }
        }
    };
    let opts = conformance::RunOptions {
        features: features.clone(),
        tags: args.tags.clone(),
        name: args.name.clone(),
        junit: args.junit.clone(),
        json: args.json.clone(),
        concurrency: None,
        rig,
        profile,
        emulate,
        boundaries: args.boundaries,
    };
    if args.matrix {
        return matrix(&opts, args.json.as_deref(), args.html.as_deref());
    }
    let result = conformance::run(&opts);
    if let Some(rig) = &opts.rig {
        rig.stop();
    }
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            // Bad input (a path, a feature file, a tag expression): say what and where, exit 2.
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    print!("{}", conformance::report::table::render(&report));
    if let (Some(dir), Some(key), Some(transcript), Some(rig)) =
        (&args.out, &sign_key, &transcript, &opts.rig)
    {
        let (deadline, quiet) = rig.timing();
        let input = callconf::certificate::bundle::Input {
            dir,
            report: &report,
            transcript,
            started: rig.started(),
            sources: &features,
            profile: (profile_name.clone(), profile_text.clone()),
            settings: callconf::certificate::manifest::Settings {
                emulate: args.emulate.clone(),
                boundaries: args.boundaries,
                deadline_ms: u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
                quiet_ms: u64::try_from(quiet.as_millis()).unwrap_or(u64::MAX),
                clock: if rig.started().clock_driven {
                    "manual".into()
                } else {
                    "wall".into()
                },
                tags: args.tags.clone(),
                name: args.name.clone(),
                faults: args.inject_fault.clone(),
                external_server: args.server.is_some(),
            },
            command: std::env::args().collect(),
            started_at,
            finished_at: std::time::SystemTime::now(),
            key,
        };
        match callconf::certificate::bundle::write_bundle(&input) {
            Ok(_) => println!(
                "certificate bundle: {} (check it: callconf verify {})",
                dir.display(),
                dir.display()
            ),
            Err(e) => {
                eprintln!("error {}: {e}", e.code());
                std::process::exit(2);
            }
        }
    }
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
