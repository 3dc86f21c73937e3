//! `callconf serve`: the reference call server as a standalone program. Devices connect over
//! WebSocket with `callconf-wire/1`; the administrator provisions it and drives its manual clock
//! on a listener of its own; SIGINT or SIGTERM stops it cleanly (every device is told 910 and
//! closed, so the calls it was in end as its devices leave).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::info;

use super::limits::{CONNECTIONS_MAX, TRACE_KEPT_MAX};
use super::server::Front;
use crate::core::{Fault, Limits};
use crate::server::auth::Token;
use crate::server::population::{self, Population, PopulationError};
use crate::server::{ClockMode, ServerConfig, ServerHandle};

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Where devices connect (`127.0.0.1:0` picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8800", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Where the administrator connects; keep it on loopback.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub admin_listen: SocketAddr,
    /// Users, devices with their tokens, groups and limits to start with (YAML).
    #[arg(long, value_name = "FILE")]
    pub population: Option<PathBuf>,
    /// `wall`: real time. `manual`: time moves only when the admin channel says `advance`.
    #[arg(long, value_enum, default_value = "wall")]
    pub clock: ClockArg,
    /// A file holding the admin token (surrounding whitespace ignored). Without it there is no
    /// admin channel.
    #[arg(long, value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Switch on one of the core's deliberate bugs (a testing aid: show that a certification
    /// run catches it). Repeat for several. Names: second-device-also-joins, no-cancel-event,
    /// ring-timeout-never-fires, non-member-may-end, event-after-end.
    #[arg(long = "inject-fault", value_name = "NAME")]
    pub inject_fault: Vec<String>,
    /// Emulate this dialect: a built-in profile (canonical, mirrorfly, cometchat, stringee,
    /// voximplant, stream) or a profile file (docs/profiles.md). Its limits are the defaults a
    /// population's own `limits` replace.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Log filter (`info`, `debug`, `callconf=debug`); default `RUST_LOG`, else `info`.
    #[arg(long, value_name = "FILTER")]
    pub log: Option<String>,
    /// Trace entries kept for the admin channel's `trace` (0: record none).
    #[arg(long, default_value_t = TRACE_KEPT_MAX, value_name = "N")]
    pub trace_kept_max: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockArg {
    Wall,
    Manual,
}

/// Why the server could not start. Codes 930–936.
#[derive(Debug, Error)]
pub enum ServeError {
    /// 930: a listener could not be bound.
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: SocketAddr, message: String },
    /// 931–933: the population file.
    #[error(transparent)]
    Population(#[from] PopulationError),
    /// 934: the admin token file is unreadable or empty.
    #[error("admin token file {file}: {message}")]
    AdminToken { file: String, message: String },
    /// 935: an unknown fault name.
    #[error("unknown fault `{0}`; known: {known}", known = fault_names())]
    UnknownFault(String),
    /// 936: the runtime could not start.
    #[error("runtime: {0}")]
    Runtime(String),
    /// 1200–1206: the profile.
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
}

impl ServeError {
    pub fn code(&self) -> u16 {
        match self {
            ServeError::Bind { .. } => 930,
            ServeError::Population(p) => p.code(),
            ServeError::AdminToken { .. } => 934,
            ServeError::UnknownFault(_) => 935,
            ServeError::Runtime(_) => 936,
            ServeError::Profile(p) => p.code(),
        }
    }
}

fn fault_names() -> String {
    Fault::ALL.map(Fault::name).join(", ")
}

/// Reads an admin token file.
pub fn read_token_file(path: &std::path::Path) -> Result<Token, ServeError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ServeError::AdminToken {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let t = text.trim();
    if t.is_empty() {
        let message = "is empty".to_owned();
        return Err(ServeError::AdminToken { file, message });
    }
    Ok(Token::new(t))
}

/// Starts the log: to standard error, filtered by `filter`, else `RUST_LOG`, else `info`.
pub fn init_log(filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match filter {
        Some(f) => EnvFilter::new(f),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// Runs `callconf serve` until SIGINT or SIGTERM; returns the exit code.
pub fn run(args: &ServeArgs) -> Result<i32, ServeError> {
    init_log(args.log.as_deref());
    let faults = args
        .inject_fault
        .iter()
        .map(|n| Fault::from_name(n).ok_or_else(|| ServeError::UnknownFault(n.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let pop = match &args.population {
        Some(p) => population::load(p)?,
        None => Population::default(),
    };
    let admin_token = args
        .admin_token_file
        .as_deref()
        .map(read_token_file)
        .transpose()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError::Runtime(e.to_string()))?;
    let (stop_tx, stop) = watch::channel(false);
    // SIGINT and SIGTERM (ctrlc's `termination`) flip the stop signal once.
    let signal = stop_tx.clone();
    let _ = ctrlc::set_handler(move || {
        let _ = signal.send(true);
    });
    rt.block_on(async move {
        let running = start(args, &pop, &faults, admin_token, stop.clone()).await?;
        println!("{}", running.banner());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let mut stop = stop;
        let _ = stop.wait_for(|s| *s).await;
        running.stop().await;
        drop(stop_tx);
        Ok(0)
    })
}

/// A server started by [`start`].
pub struct Running {
    pub server: ServerHandle,
    pub devices: SocketAddr,
    pub admin: Option<SocketAddr>,
    pub clock: ClockMode,
    front: Front,
}

impl Running {
    /// The line `serve` prints first: where devices and the administrator connect.
    pub fn banner(&self) -> String {
        let admin = self
            .admin
            .map_or_else(|| "off".to_owned(), |a| format!("ws://{a}"));
        let clock = match self.clock {
            ClockMode::Wall => "wall",
            ClockMode::Manual => "manual",
        };
        format!(
            "callconf serve: devices ws://{} admin {admin} clock {clock} protocol {}",
            self.devices,
            super::wire::PROTOCOL
        )
    }

    /// Closes every connection (910) and waits, at most two seconds, until they are gone.
    pub async fn stop(self) {
        info!("shutting down");
        self.server.shutdown();
        let all = u32::try_from(CONNECTIONS_MAX).unwrap_or(u32::MAX);
        let _ =
            tokio::time::timeout(Duration::from_secs(2), self.front.slots.acquire_many(all)).await;
        info!("stopped");
    }
}

/// Builds the server from `pop` and starts both listeners on the current runtime.
pub async fn start(
    args: &ServeArgs,
    pop: &Population,
    faults: &[Fault],
    admin_token: Option<Token>,
    stop: watch::Receiver<bool>,
) -> Result<Running, ServeError> {
    let limits = match &args.profile {
        Some(name) => crate::profile::Profile::resolve(name)?.core_limits(),
        None => Limits::default(),
    };
    let (core, credentials) =
        population::build(pop, &limits, faults).map_err(|refused| PopulationError::Invalid {
            file: "population".into(),
            line: 1,
            column: 1,
            refused,
        })?;
    let clock = match args.clock {
        ClockArg::Wall => ClockMode::Wall,
        ClockArg::Manual => ClockMode::Manual,
    };
    let config = ServerConfig {
        clock,
        trace_kept_max: args.trace_kept_max,
        ..ServerConfig::default()
    };
    let server = ServerHandle::start_with(core, credentials, faults, config, None);
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr).await.map_err(|e| ServeError::Bind {
            addr,
            message: e.to_string(),
        })
    };
    let front = Front::new(stop);
    let listener = bind(args.listen).await?;
    let devices = listener.local_addr().map_err(|e| ServeError::Bind {
        addr: args.listen,
        message: e.to_string(),
    })?;
    tokio::spawn(super::server::serve_front(
        listener,
        server.clone(),
        front.clone(),
    ));
    let admin = match admin_token {
        Some(token) => {
            let listener = bind(args.admin_listen).await?;
            let addr = listener.local_addr().map_err(|e| ServeError::Bind {
                addr: args.admin_listen,
                message: e.to_string(),
            })?;
            let admin_front = front.clone();
            tokio::spawn(super::admin::serve_admin(
                listener,
                server.clone(),
                token,
                admin_front,
            ));
            Some(addr)
        }
        None => None,
    };
    info!(%devices, admin = ?admin, ?clock, faults = faults.len(), "listening");
    Ok(Running {
        server,
        devices,
        admin,
        clock,
        front,
    })
}
