//! The `keydesk` binary as scripts use it: exit codes, `--json` output, configuration errors, help.

use std::path::Path;
use std::process::{Command, Output};

use keydesk::cli::exit;

struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new() -> Desk {
        let desk = Desk { dir: tempfile::tempdir().unwrap() };
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo-orders.json");
        assert_eq!(desk.run(&["import", "orders", fixtures]).status.code(), Some(0));
        let out = desk.run_with_stdin(&["operator", "add", "qin", "--password-stdin"], "2468\n");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        desk
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_keydesk"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("KEYDESK_CONFIG")
            .env_remove("KEYDESK_OPERATOR")
            .env("KEYDESK_DATABASE__URL", format!("sqlite://{}", self.dir.path().join("k.db").display()))
            .env("KEYDESK_LOG__DIR", self.dir.path().join("logs"));
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let out = self.run(args);
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{args:?}: {e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        });
        (out.status.code().unwrap_or(-1), v)
    }
}

#[test]
fn intake_exit_codes_and_json_are_stable() {
    let d = Desk::new();
    let (code, v) = d.json(&["--operator", "qin", "intake", "sf1402000000000", "--json"]);
    assert_eq!((code, v["result"].as_str()), (exit::OK as i32, Some("matched")), "{v}");
    assert_eq!(v["orders"][0]["order_no"], "0000261121000001");
    let (code, v) = d.json(&["--operator", "qin", "intake", "SF1402000000000", "--json"]);
    assert_eq!((code, v["result"].as_str()), (exit::OK as i32, Some("already_received")));
    let cases = [
        ("YT7345678901234", exit::INTAKE_NOT_SF, "not_sf"),
        ("???", exit::INTAKE_INVALID, "invalid"),
        ("SF1111111111111", exit::INTAKE_UNKNOWN, "unknown"),
    ];
    for (scan, want_code, want) in cases {
        let (code, v) = d.json(&["--operator", "qin", "intake", scan, "--json"]);
        assert_eq!((code, v["result"].as_str()), (want_code as i32, Some(want)), "{scan}");
    }
}

#[test]
fn changes_need_a_known_operator() {
    let d = Desk::new();
    let out = d.run(&["intake", "SF1402000000000"]);
    assert_eq!(out.status.code(), Some(exit::USAGE as i32));
    let out = d.run(&["--operator", "nobody", "intake", "SF1402000000000"]);
    assert_eq!(out.status.code(), Some(exit::FAILURE as i32));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
}

#[test]
fn order_show_list_and_search_mask_personal_data() {
    let d = Desk::new();
    let (code, v) = d.json(&["order", "show", "0000261121000001", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(v["order"]["holder"], "秦**");
    let text = v.to_string();
    assert!(!text.contains("15909346015"), "full phone leaked: {text}");
    assert!(!text.contains("110100197001015721"), "ID number leaked");
    let (_, list) = d.json(&["order", "list", "--status", "paid", "--json"]);
    assert!(list.as_array().unwrap().len() >= 20);
    let (_, found) = d.json(&["order", "search", "巨蟹宫", "--json"]);
    assert!(!found.as_array().unwrap().is_empty());
    let out = d.run(&["order", "show", "0000261121999999"]);
    assert_eq!(out.status.code(), Some(exit::REFUSED as i32));
    let out = d.run(&["order", "list", "--status", "nonsense"]);
    assert_eq!(out.status.code(), Some(exit::USAGE as i32));
}

#[test]
fn hold_and_release_from_the_command_line() {
    let d = Desk::new();
    let (code, v) =
        d.json(&["--operator", "qin", "order", "hold", "0000261121000001", "--reason", "documents_missing", "--json"]);
    assert_eq!((code, v["status"].as_str()), (0, Some("on_hold")));
    let (code, v) = d.json(&["--operator", "qin", "order", "release", "0000261121000001", "--note", "补齐", "--json"]);
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")));
    let out = d.run(&["--operator", "qin", "order", "cancel", "0000261121000001", "--note", "x"]);
    assert_eq!(out.status.code(), Some(exit::REFUSED as i32), "a paid order cannot be cancelled");
}

#[test]
fn bad_configuration_names_the_key_and_the_file() {
    let d = Desk::new();
    let cfg = d.dir.path().join("bad.toml");
    std::fs::write(&cfg, "[database]\nmax_connection = 3\n").unwrap();
    let out = d.run(&["--config", cfg.to_str().unwrap(), "order", "list"]);
    assert_eq!(out.status.code(), Some(exit::FAILURE as i32));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_connection") && err.contains("bad.toml"), "{err}");
    let out = d.command(&["order", "list"]).env("KEYDESK_DATABASE__MAX_CONNECTIONS", "lots").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("KEYDESK_DATABASE__MAX_CONNECTIONS"));
}

#[test]
fn unreachable_database_has_its_own_exit_code() {
    let d = Desk::new();
    let out = d
        .command(&["order", "list"])
        .env("KEYDESK_DATABASE__URL", "postgres://nobody@127.0.0.1:1/none")
        .env("KEYDESK_DATABASE__CONNECT_TIMEOUT_SECS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit::DATABASE_UNAVAILABLE as i32), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn help_follows_clap_conventions() {
    let out = Command::new(env!("CARGO_BIN_EXE_keydesk")).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["intake", "import", "order", "operator", "--config", "--operator"] {
        assert!(text.contains(word), "--help lacks {word}");
    }
    assert!(Path::new(env!("CARGO_BIN_EXE_keydesk")).exists());
}

/// `keydesk … | head`: a closed output pipe ends the command quietly with 141 (128 + SIGPIPE), as a
/// shell expects, not with a panic message.
#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keydesk"))
        .args(["sla", "due", "--policy", "return", "--event", "2026-03-04T10:15:00+08:00", "--json"])
        .env_remove("KEYDESK_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(i32::from(exit::BROKEN_PIPE)), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
