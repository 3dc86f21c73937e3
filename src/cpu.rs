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

#[cfg(test)]
mod tests {
    use super::*;

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
