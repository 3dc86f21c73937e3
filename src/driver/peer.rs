//! The process at the far end of the driver protocol: an adapter started as a command, or a
//! browser hosting the web adapter's page. Whatever way the run ends — the suite finishes, the
//! adapter breaks, the page crashes, Ctrl-C — the process, and every process it started, must
//! go, and so must the scratch directory it was given (a browser profile). So a peer:
//!
//! - gets SIGKILL when callconf dies, whatever way it dies ([`die_with_parent`]);
//! - may lead a process group of its own, which is killed as a whole (a browser forks
//!   renderers and helpers that the kernel would not kill with it);
//! - is killed when dropped, and is listed in a process-wide registry that a signal handler
//!   empties ([`kill_all`]), because a signal handler cannot run destructors.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::Mutex;

/// Peers alive now: their process (group) id, whether it leads a group, and the scratch
/// directory to remove.
static LIVE: Mutex<Vec<(i32, bool, Option<Scratch>)>> = Mutex::new(Vec::new());

/// A peer's scratch directory, removed when the peer is gone, and what else to remove then
/// (`also` runs first, given the directory: a browser's files outside it).
#[derive(Debug, Clone)]
pub struct Scratch {
    pub dir: PathBuf,
    pub also: fn(&Path),
}

impl Scratch {
    /// Just the directory.
    pub fn dir(dir: PathBuf) -> Scratch {
        Scratch { dir, also: |_| {} }
    }

    fn remove(&self) {
        (self.also)(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Makes the child get SIGKILL when this process dies, whatever way it dies (Linux), so that a
/// server or an adapter never outlives the run that started it.
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child being set up.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// A running peer process.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    /// Whether the child leads its own process group (killed as a whole).
    group: bool,
    /// Removed once the process is gone.
    scratch: Option<Scratch>,
    /// Whether it ends by itself after `session.end` (a browser does not).
    exits_by_itself: bool,
}

impl Peer {
    /// Starts `cmd` (already set up with its pipes); with `group`, in a process group of its
    /// own. `scratch` is removed when the peer is gone.
    pub fn spawn(
        cmd: &mut Command,
        group: bool,
        scratch: Option<Scratch>,
    ) -> std::io::Result<Peer> {
        use std::os::unix::process::CommandExt;
        die_with_parent(cmd);
        if group {
            cmd.process_group(0);
        }
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                if let Some(dir) = &scratch {
                    dir.remove();
                }
                return Err(e);
            }
        };
        let pid = i32::try_from(child.id()).unwrap_or(0);
        lock().push((pid, group, scratch.clone()));
        Ok(Peer {
            child,
            group,
            scratch,
            exits_by_itself: !group,
        })
    }

    /// The child, for its pipes.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Whether it exits by itself after `session.end`; a browser is killed at once instead.
    pub fn exits_by_itself(&self) -> bool {
        self.exits_by_itself
    }

    /// Its exit status, if it has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kills it (and its group), reaps it, and removes its scratch directory.
    pub fn kill(&mut self) {
        let pid = i32::try_from(self.child.id()).unwrap_or(0);
        if self.group && pid > 0 {
            // The group outlives its leader's exit: kill it even when the leader is gone.
            // SAFETY: kill(2) with a negative pid signals that process group only.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if let Some(dir) = self.scratch.take() {
            dir.remove();
        }
        lock().retain(|(p, ..)| *p != pid);
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Never leave a peer behind, whatever path the run took.
        self.kill();
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<(i32, bool, Option<Scratch>)>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Kills every live peer and removes their scratch directories: for a SIGINT or SIGTERM
/// handler, just before the process exits.
pub fn kill_all() {
    let live = std::mem::take(&mut *lock());
    for (pid, group, _) in &live {
        if *pid > 0 {
            // SAFETY: kill(2) on a child (or its group) this process started.
            unsafe {
                libc::kill(if *group { -pid } else { *pid }, libc::SIGKILL);
            }
        }
    }
    // Reap each (bounded: 1 s in all), so that nothing still writes to the scratch directories
    // when they are removed.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(1);
    for (pid, _, scratch) in live {
        while pid > 0 && std::time::Instant::now() < until {
            // SAFETY: waitpid on a child of this process, without blocking.
            let reaped = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
            if reaped != 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        if let Some(dir) = scratch {
            dir.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn killing_a_group_leader_kills_the_processes_it_started_and_removes_its_scratch() {
        let scratch =
            std::env::temp_dir().join(format!("callconf-peer-test-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let pid_file = scratch.join("grandchild.pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script]);
        let mut peer = Peer::spawn(&mut cmd, true, Some(Scratch::dir(scratch.clone()))).unwrap();
        let grandchild = (0..200)
            .find_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                std::fs::read_to_string(&pid_file)
                    .ok()
                    .and_then(|s| s.trim().parse::<i32>().ok())
            })
            .expect("the grandchild started");
        peer.kill();
        assert!(!scratch.exists(), "the scratch directory is removed");
        // The grandchild is gone (a zombie until its reaper runs counts as gone: not running).
        let state = (0..100).find_map(|_| {
            let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).ok();
            match stat {
                None => Some("gone".to_owned()),
                Some(s) if s.contains(") Z ") => Some("zombie".to_owned()),
                Some(_) => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    None
                }
            }
        });
        assert!(state.is_some(), "the grandchild {grandchild} still runs");
    }
}
