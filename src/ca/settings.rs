//! `[ca]`: where renewed certificates come from (the local CA key, or a command such as `openssl ca`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaBackend {
    #[default]
    Local,
    Command,
}

/// `[ca]`: where renewed certificates come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaSettings {
    pub backend: CaBackend,
    /// The CA certificate (PEM): signs for `local`; for `command`, issued certificates are checked against it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// The CA private key (PEM, RSA or EC P-256) for `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// For `command`: the program and its arguments (no shell).
    pub command: Vec<String>,
    pub command_timeout_secs: u64,
}

impl Default for CaSettings {
    fn default() -> Self {
        CaSettings { backend: CaBackend::Local, cert: None, key: None, command: Vec::new(), command_timeout_secs: 60 }
    }
}
