//! The `cups` backend: hands the PDF to the local CUPS scheduler with `lp -d QUEUE -o media=…`,
//! reading the document from standard input so no temporary file is left behind.
//!
//! `lp`'s own messages decide the outcome: a scheduler that is down, busy or not accepting jobs is
//! retryable; an unknown queue or a refused document is a failure staff must look at.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{PrintJob, PrintOutcome, Printer};

/// Prints through `lp`.
#[derive(Debug, Clone)]
pub struct CupsPrinter {
    queue: String,
    media: String,
    server: Option<String>,
    program: String,
    timeout: Duration,
}

impl CupsPrinter {
    /// A printer for CUPS queue `queue`; `media` is passed as `-o media=…` when not empty.
    pub fn new(queue: &str, media: &str) -> Self {
        Self {
            queue: queue.to_string(),
            media: media.to_string(),
            server: None,
            program: "lp".to_string(),
            timeout: Duration::from_secs(60),
        }
    }

    /// Talks to the CUPS/IPP server at `host[:port]` (`lp -h`) instead of the default one.
    pub fn with_server(mut self, server: &str) -> Self {
        self.server = Some(server.to_string());
        self
    }

    /// Uses another `lp` executable (tests, unusual installs).
    pub fn with_program(mut self, program: &str) -> Self {
        self.program = program.to_string();
        self
    }
}

impl CupsPrinter {
    /// `lpstat -r`: whether the scheduler answers (false when lpstat cannot be run either).
    fn scheduler_running(&self) -> bool {
        let lpstat = Path::new(&self.program).with_file_name("lpstat");
        let program = if self.program.contains('/') { lpstat.as_os_str() } else { "lpstat".as_ref() };
        let mut cmd = Command::new(program);
        if let Some(server) = &self.server {
            cmd.arg("-h").arg(server);
        }
        cmd.arg("-r").stdin(Stdio::null()).stderr(Stdio::null());
        cmd.output()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout);
                text.contains("scheduler is running")
            })
            .unwrap_or(false)
    }
}

/// Classifies `lp`'s complaint.
pub fn outcome_for_lp_error(stderr: &str) -> PrintOutcome {
    let lower = stderr.to_lowercase();
    let retryable = [
        "unable to connect",
        "connection refused",
        "not responding",
        "busy",
        "not accepting jobs",
        "temporarily",
        "timed out",
        "service unavailable",
    ];
    let message = format!("lp: {}", stderr.trim());
    if retryable.iter().any(|needle| lower.contains(needle)) {
        PrintOutcome::Retryable(message)
    } else {
        PrintOutcome::Failed(message)
    }
}

/// Reads the job id from `request id is QUEUE-12 (1 file(s))`.
fn job_id(stdout: &str) -> Option<String> {
    stdout.split("request id is ").nth(1).and_then(|rest| rest.split_whitespace().next()).map(str::to_string)
}

impl Printer for CupsPrinter {
    fn print(&self, job: &PrintJob<'_>) -> PrintOutcome {
        let mut cmd = Command::new(&self.program);
        if let Some(server) = &self.server {
            cmd.arg("-h").arg(server);
        }
        cmd.arg("-d").arg(&self.queue).arg("-t").arg(job.name);
        if let Some(media) = job.media_or(&self.media) {
            cmd.arg("-o").arg(format!("media={media}"));
        }
        cmd.arg("-").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return PrintOutcome::Failed(format!(
                    "`{}` not found: install cups-client or choose another printer backend",
                    self.program
                ))
            }
            Err(e) => return PrintOutcome::Retryable(format!("cannot start `{}`: {e}", self.program)),
        };
        if let Some(mut stdin) = child.stdin.take() {
            if let Err(e) = stdin.write_all(job.pdf) {
                let _ = child.kill();
                let _ = child.wait();
                return PrintOutcome::Retryable(format!("lp did not take the document: {e}"));
            }
        }
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if started.elapsed() > self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return PrintOutcome::Retryable(format!("lp gave no answer in {:?}", self.timeout));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return PrintOutcome::Retryable(format!("waiting for lp: {e}")),
            }
        }
        let output = match child.wait_with_output() {
            Ok(output) => output,
            Err(e) => return PrintOutcome::Retryable(format!("reading lp's answer: {e}")),
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            return PrintOutcome::Printed { job: job_id(&stdout) };
        }
        match outcome_for_lp_error(&stderr) {
            // lp says "does not exist" also when it cannot reach the scheduler at all: ask lpstat.
            PrintOutcome::Failed(message) if !self.scheduler_running() => {
                PrintOutcome::Retryable(format!("{message} (the CUPS scheduler is not running)"))
            }
            outcome => outcome,
        }
    }

    fn describe(&self) -> String {
        match &self.server {
            Some(server) => format!("CUPS queue {} on {server}", self.queue),
            None => format!("CUPS queue {}", self.queue),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_job_id_from_lp() {
        assert_eq!(job_id("request id is label-12 (1 file(s))\n").as_deref(), Some("label-12"));
        assert_eq!(job_id(""), None);
    }

    #[test]
    fn scheduler_down_is_retryable_unknown_queue_is_not() {
        assert!(matches!(outcome_for_lp_error("lp: Unable to connect to server"), PrintOutcome::Retryable(_)));
        assert!(matches!(outcome_for_lp_error("lp: The printer or class does not exist."), PrintOutcome::Failed(_)));
    }
}
