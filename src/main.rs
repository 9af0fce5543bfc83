//! The `keydesk` binary: parse the command line, load the configuration, start logging, run the command.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use keydesk::cli::config::Config;
use keydesk::cli::exit;
use keydesk::cli::{self, Cli, Command};

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let (config, source) = match Config::load(cli.config.as_deref()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("keydesk: 配置错误 (configuration error): {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let to_file = matches!(cli.command, None | Some(Command::Desk));
    let _log_guard = cli::logging::init(&config, to_file);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keydesk: cannot start the runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(cli::run(cli, config, source)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            tracing::warn!(code = failure.code, "{}", failure.message);
            eprintln!("keydesk: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// `keydesk … | head`: when the reader of stdout goes away, `print!` panics (Rust ignores SIGPIPE, and
/// resetting it needs unsafe code). The command ends as a shell expects instead — quietly, exit 141 —
/// and every other panic keeps its message.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message =
            payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        let message = message.unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(i32::from(exit::BROKEN_PIPE));
        }
        default(info)
    }));
}
