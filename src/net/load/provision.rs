//! Where a real-time run's devices connect, and what it must undo: the reference server in this
//! process, or a `callconf serve` elsewhere whose users the run adds through the admin channel
//! and removes at the end; and room in the open-file limit for the sockets.

use std::time::Duration;

use tokio::net::TcpListener;

use super::{RealtimeError, Target};
use crate::core::UserId;
use crate::scenario::Scenario;
use crate::server::population::{self, Population};
use crate::server::{ServerConfig, ServerHandle};

/// Open files the process needs besides the connections' sockets (listener, runtime, stdio).
const FILES_SPARE: u64 = 64;

/// Makes room for `users` connections: both ends of each socket live in this process. Raises
/// the soft open-file limit up to the hard one when it is short (as SIPp does for its sockets),
/// so a run fails here with the numbers, not at the 500th connection with "too many open files".
pub(super) fn ensure_file_limit(users: u64) -> Result<(), RealtimeError> {
    let needed = users * 2 + FILES_SPARE;
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(RealtimeError::Io(format!(
            "getrlimit: {}",
            std::io::Error::last_os_error()
        )));
    }
    if lim.rlim_cur >= needed {
        return Ok(());
    }
    if lim.rlim_max < needed {
        return Err(RealtimeError::FileLimit {
            users,
            needed,
            limit: lim.rlim_max,
        });
    }
    let raised = libc::rlimit {
        rlim_cur: needed,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: as above; a soft limit at most the hard one is always allowed.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(RealtimeError::Io(format!(
            "setrlimit: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Where the clients connect, and what to undo at the end.
pub(super) enum Server {
    /// The reference server in this process.
    InProcess,
    /// A server elsewhere, and the admin channel this run provisioned its users through.
    Remote(Box<crate::net::admin::AdminClient>),
}

/// Provisions `pop`: in process, a server of its own (returns its URL); remote, its users added
/// to the target through the admin channel.
pub(super) async fn provision(
    pop: &Population,
    sc: &Scenario,
    target: Option<&Target>,
) -> Result<(String, Server), RealtimeError> {
    let Some(t) = target else {
        let (core, credentials) = population::build(pop, &sc.limits, &[])
            .map_err(|e| RealtimeError::Setup(e.to_string()))?;
        let server =
            ServerHandle::start_with(core, credentials, &[], ServerConfig::default(), None);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| RealtimeError::Io(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| RealtimeError::Io(e.to_string()))?;
        tokio::spawn(crate::net::server::serve(listener, server));
        return Ok((format!("ws://{addr}/"), Server::InProcess));
    };
    let deadline = Duration::from_millis(crate::driver::limits::DEADLINE_MS_DEFAULT);
    let mut admin = crate::net::admin::AdminClient::connect(&t.admin_url, &t.admin_token, deadline)
        .await
        .map_err(|e| RealtimeError::Setup(format!("admin channel {}: {e}", t.admin_url)))?;
    for u in &pop.users {
        let r = admin
            .op(crate::server::admin::AdminOp::AddUser(u.clone()))
            .await
            .map_err(|e| RealtimeError::Setup(format!("admin channel: {e}")))?;
        if let Err(e) = r {
            return Err(RealtimeError::Setup(format!(
                "add_user {}: {} ({})",
                u.name, e.message, e.code
            )));
        }
    }
    Ok((t.devices_url.clone(), Server::Remote(Box::new(admin))))
}

/// Removes the users a remote run added (best effort: the run's figures are already taken).
/// A user whose connection the server has not yet seen close is refused; it is tried again a
/// few times.
pub(super) async fn unprovision(server: Server, pop: &Population) {
    let Server::Remote(mut admin) = server else {
        return;
    };
    let mut left: Vec<UserId> = pop.users.iter().map(|u| u.name.clone()).collect();
    for _ in 0..REMOVE_ATTEMPTS_MAX {
        let mut refused = Vec::new();
        for user in left {
            let op = crate::server::admin::AdminOp::RemoveUser { user: user.clone() };
            if !matches!(admin.op(op).await, Ok(Ok(_))) {
                refused.push(user);
            }
        }
        if refused.is_empty() {
            return;
        }
        left = refused;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rounds of `remove_user` for a remote run's users before giving up on the stragglers.
const REMOVE_ATTEMPTS_MAX: usize = 5;
