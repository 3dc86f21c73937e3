//! Newline-delimited JSON over a pipe, as both ends of the driver protocol speak it: a reader
//! and a writer thread each, so a blocking pipe never blocks the async side, with every line
//! and every queue bounded.

use tokio::sync::mpsc;

use super::limits::{LINE_BYTES_MAX, LINES_QUEUED_MAX};

/// One line read from the standard input, or why reading stopped.
pub enum InLine {
    Line(String),
    TooLong,
}

/// Reads `input` a line at a time on its own thread (each line at most [`LINE_BYTES_MAX`]
/// bytes) into a bounded queue; the queue closes at the end of the input.
pub fn line_reader(input: impl std::io::Read + Send + 'static) -> mpsc::Receiver<InLine> {
    let (tx, rx) = mpsc::channel(LINES_QUEUED_MAX);
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(input);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let limit = LINE_BYTES_MAX as u64 + 1;
            match std::io::Read::take(&mut reader, limit).read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) if buf.len() > LINE_BYTES_MAX => {
                    let _ = tx.blocking_send(InLine::TooLong);
                    return;
                }
                Ok(_) => {
                    let text = String::from_utf8_lossy(&buf).trim().to_owned();
                    if !text.is_empty() && tx.blocking_send(InLine::Line(text)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Writes every line queued on `lines` to `output` on its own thread, flushing when the queue
/// runs dry; returns the queue's sender and the thread, which ends when every sender is gone.
pub fn line_writer(
    mut output: impl std::io::Write + Send + 'static,
) -> (mpsc::Sender<String>, std::thread::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<String>(LINES_QUEUED_MAX);
    let thread = std::thread::spawn(move || {
        while let Some(l) = rx.blocking_recv() {
            if writeln!(output, "{l}").is_err() {
                return;
            }
            if rx.is_empty() && output.flush().is_err() {
                return;
            }
        }
        let _ = output.flush();
    });
    (tx, thread)
}
