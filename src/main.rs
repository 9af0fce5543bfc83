//! The `keydesk` binary: parse the command line, load the configuration, start logging, run the command.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use keydesk::cli::config::Config;
use keydesk::cli::exit;
use keydesk::cli::{self, Cli, Command};

fn main() -> ExitCode {
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
