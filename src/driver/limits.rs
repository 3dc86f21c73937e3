//! Every limit of the driver protocol, in one place, units last.

/// One line (a command, a response, an event) on an adapter's standard input or output.
pub const LINE_BYTES_MAX: usize = 1 << 20;
/// Lines waiting to be written by one side before the writer pushes back.
pub const LINES_QUEUED_MAX: usize = 4096;
/// Devices the reference adapter holds at once.
pub const ADAPTER_DEVICES_MAX: usize = 4096;
/// Commands waiting for one device of the reference adapter.
pub const DEVICE_COMMANDS_QUEUED_MAX: usize = 256;
/// From `device.open` to the server's welcome, in the reference adapter.
pub const OPEN_TIMEOUT_MS: u64 = 5_000;
/// From starting an adapter to its hello.
pub const HELLO_TIMEOUT_MS: u64 = 10_000;
/// Default wait for each response (`--deadline-ms`).
pub const DEADLINE_MS_DEFAULT: u64 = 5_000;
/// Events one device may have waiting to be checked; past it the adapter is flooding.
pub const DEVICE_EVENTS_QUEUED_MAX: usize = 4096;
/// Call listeners one device of the reference adapter holds (`device.listener`).
pub const DEVICE_LISTENERS_MAX: usize = 64;
/// Events one listener of the reference adapter keeps between two `take`s; past it the take is
/// refused (1004) rather than silently short.
pub const LISTENER_EVENTS_KEPT_MAX: usize = 4096;
/// How long an adapter may take to exit after `session.end` before it is killed.
pub const EXIT_TIMEOUT_MS: u64 = 2_000;
/// The adapter's standard error kept for the report.
pub const STDERR_KEPT_BYTES: usize = 64 * 1024;
/// Against a system whose clock callconf cannot drive, the longest `N seconds pass` that is
/// really waited out; a scenario that lets more time pass is unimplemented there.
pub const WALL_PASS_MS_MAX: u64 = 10_000;
/// Against a system whose clock callconf cannot drive, how far an event's time may be from the
/// time a `sees` line gives (`[5s] …`): scheduling, the wire and the adapter add latency.
pub const WALL_TIME_SLACK_MS: u64 = 250;
/// With the WebSocket transport: from starting the adapter (or the browser) to its dial-in.
pub const DIAL_IN_TIMEOUT_MS: u64 = 20_000;
/// With the WebSocket transport: from a dial-in's TCP connection to its completed handshake.
pub const DIAL_IN_HANDSHAKE_TIMEOUT_MS: u64 = 2_000;
/// With the WebSocket transport: dial-ins refused (wrong path or token, bad handshake) before
/// callconf stops waiting for the right one.
pub const DIAL_IN_REFUSED_MAX: usize = 16;
/// Commands callconf keeps unanswered at once with one adapter under load (`load --adapter`):
/// about a second of a 9,000 calls/s run's operations. Past it the adapter is not keeping up.
pub const COMMANDS_IN_FLIGHT_MAX: usize = 32_768;
/// `device.open` commands sent ahead of their answers while a load run opens its devices.
pub const OPENS_IN_FLIGHT_MAX: usize = 64;

/// `callconf explore` in real time: every amount of time a step lets pass, and the ring
/// timeout, are multiples of this, so no operation lands just short of a deadline the model
/// says has not passed yet (docs/explore.md).
pub const REAL_TIME_QUANTUM_MS: u64 = 500;

/// `callconf explore` in real time: the ring timeout the system is reset with (a multiple of
/// [`REAL_TIME_QUANTUM_MS`]); short, since a case that lets it pass really waits it.
pub const REAL_TIME_RING_TIMEOUT_MS: u64 = 1_000;

/// `callconf explore` in real time: a step that lets time pass waits this much longer when a
/// ring timeout is due at its end, so that it has fired on the server when the events are read.
pub const REAL_TIME_ADVANCE_MARGIN_MS: u64 = 20;

/// `callconf explore` in real time: how far the server's clock may run ahead of the case's while
/// an invitation rings, below [`WALL_TIME_SLACK_MS`] so event times still agree.
pub const REAL_TIME_DRIFT_MS_MAX: u64 = 200;
