//! The token worker: a child process (`keydesk token-worker`) that alone loads the vendor's PKCS#11
//! module and talks to the key. The desk sends one JSON request per line on the worker's stdin and reads
//! one JSON answer per line from its stdout, each within a timeout; a module that hangs or crashes is
//! killed with its worker, and the renewal journal (written by the desk, never by the worker) stays
//! consistent. The PIN travels only over this pipe: never in argv, the environment or a log, and the
//! buffers that held it are zeroized.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use zeroize::{Zeroize, Zeroizing};

use super::pkcs11::{Class, PublicKeyParts, TokenAccess, TokenError, TokenReport, TokenSummary};
use crate::ca::x509::KeyAlgorithm;

/// Test hook: `KEYDESK_TEST_WORKER_HANG=<op>` makes the worker hang on that request, as a broken vendor
/// module would. Only the worker reads it.
pub const HANG_HOOK: &str = "KEYDESK_TEST_WORKER_HANG";

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Tokens,
    Inspect { serial: String },
    Login { serial: String, pin: String },
    KeyPair { serial: String, id: String },
    GenerateKeyPair { serial: String, id: String, label: String, algorithm: KeyAlgorithm },
    Sign { serial: String, id: String, message: String },
    Certificate { serial: String, id: String },
    WriteCertificate { serial: String, id: String, label: String, der: String },
    Destroy { serial: String, classes: Vec<Class>, id: String },
    SetLabel { serial: String, classes: Vec<Class>, id: String, label: String },
}

/// How often a read-only request is tried again after a general PKCS#11 failure: a vendor module may
/// fail a read for a moment on USB, and a read changes nothing, so asking again is safe. Requests that
/// write are never repeated (the token lookup inside them settles on its own: `TokenAccess::scan_settled`).
const READ_RETRIES: u32 = 4;

impl Request {
    /// Reads only: safe to ask again.
    fn is_read_only(&self) -> bool {
        matches!(
            self,
            Request::Tokens | Request::Inspect { .. } | Request::KeyPair { .. } | Request::Certificate { .. }
        )
    }

    fn name(&self) -> &'static str {
        match self {
            Request::Tokens => "tokens",
            Request::Inspect { .. } => "inspect",
            Request::Login { .. } => "login",
            Request::KeyPair { .. } => "key_pair",
            Request::GenerateKeyPair { .. } => "generate_key_pair",
            Request::Sign { .. } => "sign",
            Request::Certificate { .. } => "certificate",
            Request::WriteCertificate { .. } => "write_certificate",
            Request::Destroy { .. } => "destroy",
            Request::SetLabel { .. } => "set_label",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
enum Response {
    Ok { value: serde_json::Value, token_us: u64 },
    Err { error: TokenError, token_us: u64 },
}

fn unhex(s: &str) -> Result<Vec<u8>, TokenError> {
    hex::decode(s).map_err(|e| TokenError::Pkcs11(format!("bad hex from the desk: {e}")))
}

/// The worker's main loop: `keydesk token-worker --module PATH`. Ends when stdin closes (the desk is
/// gone, or done).
pub fn serve(module: &str) -> std::io::Result<()> {
    use std::io::{BufRead, Write};
    let hang = std::env::var(HANG_HOOK).ok();
    let mut access: Option<TokenAccess> = None;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    loop {
        let mut line = Zeroizing::new(String::new());
        if input.read_line(&mut line)? == 0 {
            if let Some(a) = access.as_mut() {
                a.logout();
            }
            return Ok(());
        }
        let started = Instant::now();
        let answer = match serde_json::from_str::<Request>(&line) {
            Ok(mut request) => {
                if hang.as_deref() == Some(request.name()) {
                    loop {
                        std::thread::sleep(Duration::from_secs(3600));
                    }
                }
                let mut attempt = 0;
                let result = loop {
                    let result = match access.as_mut() {
                        Some(a) => handle(a, &mut request),
                        None => match TokenAccess::open(module) {
                            Ok(a) => handle(access.insert(a), &mut request),
                            Err(e) => Err(e),
                        },
                    };
                    match result {
                        Err(TokenError::Pkcs11(_)) if request.is_read_only() && attempt < READ_RETRIES => {
                            attempt += 1;
                            std::thread::sleep(Duration::from_millis(25 * u64::from(attempt)));
                        }
                        other => break other,
                    }
                };
                if let Request::Login { pin, .. } = &mut request {
                    pin.zeroize();
                }
                result
            }
            Err(e) => Err(TokenError::Pkcs11(format!("bad request: {e}"))),
        };
        let token_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let response = match answer {
            Ok(value) => Response::Ok { value, token_us },
            Err(error) => Response::Err { error, token_us },
        };
        serde_json::to_writer(&mut out, &response)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
}

fn handle(a: &mut TokenAccess, request: &mut Request) -> Result<serde_json::Value, TokenError> {
    let json = |v: Result<serde_json::Value, serde_json::Error>| v.map_err(|e| TokenError::Pkcs11(e.to_string()));
    match request {
        Request::Tokens => json(serde_json::to_value(a.tokens()?)),
        Request::Inspect { serial } => json(serde_json::to_value(a.inspect(serial)?)),
        Request::Login { serial, pin } => {
            a.login(serial, pin)?;
            Ok(serde_json::Value::Null)
        }
        Request::KeyPair { serial, id } => json(serde_json::to_value(a.key_pair(serial, &unhex(id)?)?)),
        Request::GenerateKeyPair { serial, id, label, algorithm } => {
            json(serde_json::to_value(a.generate_key_pair(serial, &unhex(id)?, label, *algorithm)?))
        }
        Request::Sign { serial, id, message } => {
            Ok(serde_json::Value::String(hex::encode(a.sign(serial, &unhex(id)?, &unhex(message)?)?)))
        }
        Request::Certificate { serial, id } => {
            json(serde_json::to_value(a.certificate(serial, &unhex(id)?)?.map(hex::encode)))
        }
        Request::WriteCertificate { serial, id, label, der } => {
            json(serde_json::to_value(a.write_certificate(serial, &unhex(id)?, label, &unhex(der)?)?))
        }
        Request::Destroy { serial, classes, id } => {
            json(serde_json::to_value(a.destroy(serial, classes, &unhex(id)?)?))
        }
        Request::SetLabel { serial, classes, id, label } => {
            a.set_label(serial, classes, &unhex(id)?, label)?;
            Ok(serde_json::Value::Null)
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("KEY 在 {secs} 秒内没有响应（{op}），已终止令牌进程 (token worker timed out)")]
    Timeout { op: &'static str, secs: u64 },
    #[error("令牌进程异常退出：{0} (token worker died)")]
    Died(String),
    #[error("无法启动令牌进程 {program}：{message}")]
    Spawn { program: String, message: String },
}

/// How to start the worker: normally this very program with `token-worker`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerProgram {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl WorkerProgram {
    pub fn current_exe() -> WorkerProgram {
        WorkerProgram {
            program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("keydesk")),
            args: vec!["token-worker".into()],
        }
    }
}

/// The desk's handle on one worker process (one per job).
pub struct TokenWorker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    timeout: Duration,
    /// Time spent inside the worker (module and token) since the last `take_token_time`.
    token_time: Duration,
    dead: Option<String>,
}

impl TokenWorker {
    pub async fn spawn(program: &WorkerProgram, module: &str, timeout: Duration) -> Result<TokenWorker, WorkerError> {
        let spawn_err = |e: std::io::Error| WorkerError::Spawn {
            program: program.program.display().to_string(),
            message: e.to_string(),
        };
        let mut child = tokio::process::Command::new(&program.program)
            .args(&program.args)
            .arg("--module")
            .arg(module)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(spawn_err)?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or_else(|| spawn_err(std::io::Error::other("no stdout")))?;
        Ok(TokenWorker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            timeout,
            token_time: Duration::ZERO,
            dead: None,
        })
    }

    /// Time the worker spent in the module since the last `take_token_time`.
    pub fn token_time(&self) -> Duration {
        self.token_time
    }

    /// Time the worker spent in the module since the last call, and resets it.
    pub fn take_token_time(&mut self) -> Duration {
        std::mem::take(&mut self.token_time)
    }

    async fn call<T: DeserializeOwned>(&mut self, request: &Request) -> Result<T, WorkerError> {
        let line = Zeroizing::new(serde_json::to_string(request).map_err(|e| WorkerError::Died(e.to_string()))? + "\n");
        self.exchange(request.name(), &line).await
    }

    async fn exchange<T: DeserializeOwned>(&mut self, op: &'static str, line: &str) -> Result<T, WorkerError> {
        if let Some(why) = &self.dead {
            return Err(WorkerError::Died(why.clone()));
        }
        let timeout = self.timeout;
        let result = tokio::time::timeout(timeout, async {
            let stdin = self.stdin.as_mut().ok_or_else(|| WorkerError::Died("stdin closed".into()))?;
            stdin.write_all(line.as_bytes()).await.map_err(|e| WorkerError::Died(e.to_string()))?;
            stdin.flush().await.map_err(|e| WorkerError::Died(e.to_string()))?;
            let mut answer = String::new();
            if self.stdout.read_line(&mut answer).await.map_err(|e| WorkerError::Died(e.to_string()))? == 0 {
                let status = self.child.wait().await.map(|s| s.to_string()).unwrap_or_default();
                return Err(WorkerError::Died(format!("exited during {op} ({status})")));
            }
            serde_json::from_str::<Response>(&answer).map_err(|e| WorkerError::Died(format!("bad answer to {op}: {e}")))
        })
        .await;
        let response = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                self.dead = Some(e.to_string());
                return Err(e);
            }
            Err(_) => {
                let _ = self.child.start_kill();
                let _ = self.child.wait().await;
                let e = WorkerError::Timeout { op, secs: timeout.as_secs() };
                self.dead = Some(e.to_string());
                return Err(e);
            }
        };
        match response {
            Response::Ok { value, token_us } => {
                self.token_time += Duration::from_micros(token_us);
                serde_json::from_value(value).map_err(|e| WorkerError::Died(format!("bad value for {op}: {e}")))
            }
            Response::Err { error, token_us } => {
                self.token_time += Duration::from_micros(token_us);
                Err(WorkerError::Token(error))
            }
        }
    }

    pub async fn tokens(&mut self) -> Result<Vec<TokenSummary>, WorkerError> {
        self.call(&Request::Tokens).await
    }

    pub async fn inspect(&mut self, serial: &str) -> Result<TokenReport, WorkerError> {
        self.call(&Request::Inspect { serial: serial.into() }).await
    }

    /// Logs in with the PIN; the request line that carries it is zeroized after the write.
    pub async fn login(&mut self, serial: &str, pin: &Zeroizing<String>) -> Result<(), WorkerError> {
        let mut line = Zeroizing::new(String::with_capacity(64 + serial.len() + pin.len() * 6));
        line.push_str("{\"op\":\"login\",\"serial\":");
        push_json_string(&mut line, serial);
        line.push_str(",\"pin\":");
        push_json_string(&mut line, pin);
        line.push_str("}\n");
        self.exchange::<()>("login", &line).await
    }

    pub async fn key_pair(&mut self, serial: &str, id: &[u8]) -> Result<Option<PublicKeyParts>, WorkerError> {
        self.call(&Request::KeyPair { serial: serial.into(), id: hex::encode(id) }).await
    }

    /// Returns the public key and whether the pair was already there.
    pub async fn generate_key_pair(
        &mut self,
        serial: &str,
        id: &[u8],
        label: &str,
        algorithm: KeyAlgorithm,
    ) -> Result<(PublicKeyParts, bool), WorkerError> {
        self.call(&Request::GenerateKeyPair {
            serial: serial.into(),
            id: hex::encode(id),
            label: label.into(),
            algorithm,
        })
        .await
    }

    pub async fn sign(&mut self, serial: &str, id: &[u8], message: &[u8]) -> Result<Vec<u8>, WorkerError> {
        let hex_sig: String = self
            .call(&Request::Sign { serial: serial.into(), id: hex::encode(id), message: hex::encode(message) })
            .await?;
        hex::decode(hex_sig).map_err(|e| WorkerError::Died(e.to_string()))
    }

    pub async fn certificate(&mut self, serial: &str, id: &[u8]) -> Result<Option<Vec<u8>>, WorkerError> {
        let value: Option<String> =
            self.call(&Request::Certificate { serial: serial.into(), id: hex::encode(id) }).await?;
        value.map(|v| hex::decode(v).map_err(|e| WorkerError::Died(e.to_string()))).transpose()
    }

    /// Returns whether a new object was written (false: the same certificate was already there).
    pub async fn write_certificate(
        &mut self,
        serial: &str,
        id: &[u8],
        label: &str,
        der: &[u8],
    ) -> Result<bool, WorkerError> {
        self.call(&Request::WriteCertificate {
            serial: serial.into(),
            id: hex::encode(id),
            label: label.into(),
            der: hex::encode(der),
        })
        .await
    }

    pub async fn destroy(&mut self, serial: &str, classes: &[Class], id: &[u8]) -> Result<usize, WorkerError> {
        self.call(&Request::Destroy { serial: serial.into(), classes: classes.to_vec(), id: hex::encode(id) }).await
    }

    pub async fn set_label(
        &mut self,
        serial: &str,
        classes: &[Class],
        id: &[u8],
        label: &str,
    ) -> Result<(), WorkerError> {
        self.call(&Request::SetLabel {
            serial: serial.into(),
            classes: classes.to_vec(),
            id: hex::encode(id),
            label: label.into(),
        })
        .await
    }

    /// Closes the pipe and waits for the worker to log out and exit.
    pub async fn close(mut self) {
        drop(self.stdin.take());
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await.is_err() {
            let _ = self.child.start_kill();
        }
    }
}

/// Appends `s` as a JSON string literal, without the intermediate copies `serde_json` would make (the
/// PIN must live only in buffers that are zeroized).
fn push_json_string(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    #[test]
    fn pins_are_escaped_as_json() {
        let mut out = String::new();
        super::push_json_string(&mut out, "a\"b\\c\u{1}");
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), "a\"b\\c\u{1}");
    }

    /// Every failure the worker can answer crosses the pipe and comes back the same (an internally
    /// tagged `Pkcs11(String)` could not be serialised, and the worker died instead of answering).
    #[test]
    fn every_token_error_crosses_the_pipe() {
        use super::super::pkcs11::TokenError as E;
        for error in [
            E::Module { module: "m.so".into(), message: "not found".into() },
            E::NotPresent { serial: "6802BDAF34F798E5".into(), present: "-".into() },
            E::Removed,
            E::PinIncorrect,
            E::PinLocked,
            E::NotLoggedIn,
            E::MissingObject("私钥".into()),
            E::Pkcs11("CKR_FUNCTION_FAILED".into()),
        ] {
            let line = serde_json::to_string(&super::Response::Err { error: error.clone(), token_us: 7 }).unwrap();
            match serde_json::from_str::<super::Response>(&line).unwrap() {
                super::Response::Err { error: back, token_us: 7 } => assert_eq!(back, error, "{line}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }
}
