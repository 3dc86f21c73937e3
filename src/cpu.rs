//! The process's CPU time, for the commands that report how busy the machine was: a wall-clock
//! rate alone cannot tell a slow program from a slow (shared, throttled) host, CPU per unit of
//! work can.

use std::time::Duration;

/// CPU time (user + system, every thread) the process has used so far.
pub fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct we pass; RUSAGE_SELF is always valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(
        rc, 0,
        "getrusage(RUSAGE_SELF) cannot fail with a valid pointer"
    );
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time (user + system, every thread) a child process has used so far, from
/// `/proc/PID/stat`; `None` when it cannot be read (the process is gone, or not Linux). Its own
/// children are not counted.
pub fn child_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let ticks = u64::try_from(ticks).ok().filter(|t| *t > 0)?;
    let total = utime + stime;
    Some(
        Duration::from_secs(total / ticks)
            + Duration::from_nanos(total % ticks * 1_000_000_000 / ticks),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_spins_has_cpu_time_and_a_gone_one_none() {
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5",
            ])
            .spawn()
            .unwrap();
        let pid = child.id();
        // Bounded: 10 s of wall for the shell's loop to show up in its ticks.
        let until = std::time::Instant::now() + Duration::from_secs(10);
        let mut seen = Duration::ZERO;
        while seen == Duration::ZERO && std::time::Instant::now() < until {
            seen = child_cpu_time(pid).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(seen > Duration::ZERO);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(child_cpu_time(pid), None);
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let before = process_cpu_time();
        let mut x = 0u64;
        // Spin until the clock moves (getrusage ticks are coarse); bounded by 10 s of wall.
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while process_cpu_time() == before && std::time::Instant::now() < until {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        assert!(process_cpu_time() > before);
    }
}
