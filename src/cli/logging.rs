//! Logging with `tracing`. Long-running faces (the desk, the member endpoint) log to a daily file in
//! `log.dir` so the terminal stays clean; one-shot commands print warnings and errors to stderr.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use super::config::Config;

/// Starts logging; keep the guard alive until exit so buffered lines reach the file.
pub fn init(config: &Config, to_file: bool) -> Option<WorkerGuard> {
    if to_file {
        let dir = config.log_dir();
        if std::fs::create_dir_all(&dir).is_ok() {
            let appender = tracing_appender::rolling::daily(&dir, "keydesk.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let filter = EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| EnvFilter::new("info"));
            let ok = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(writer)
                .with_ansi(false)
                .try_init()
                .is_ok();
            return ok.then_some(guard);
        }
        eprintln!("keydesk: cannot create log folder {}; logging to stderr", dir.display());
    }
    let _ = tracing_subscriber::fmt().with_env_filter(EnvFilter::new("warn")).with_writer(std::io::stderr).try_init();
    None
}
