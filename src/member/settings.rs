//! `[member]`: where the member endpoint listens, how it reaches the database, and its limits.

use serde::{Deserialize, Serialize};

/// The member endpoint (`keydesk serve`): where it listens, how it reaches the database, and its limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemberSettings {
    /// Address and port to listen on.
    pub listen: String,
    /// The endpoint's own database login (least privilege); unset means `database.url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// PostgreSQL role every connection switches to (`SET ROLE`); migration 0002 creates it.
    pub pg_role: String,
    /// Connections in the endpoint's pool.
    pub max_connections: u32,
    /// Client connections served at once; more wait to be accepted.
    pub max_open_connections: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest request target (path and query) accepted, in bytes.
    pub max_uri_bytes: usize,
    /// A request that takes longer is answered 503 `timeout`.
    pub request_timeout_ms: u64,
    /// A client that does not send its request headers within this time is disconnected.
    pub header_read_timeout_ms: u64,
    /// Failed lookups (unknown order or wrong phone tail) allowed per order number within the window.
    pub failures_per_order: u32,
    /// Failed lookups allowed per client address within the window.
    pub failures_per_client: u32,
    /// The window of both failure limits, in seconds.
    pub failure_window_secs: u64,
    /// Order numbers and client addresses the failure limiter remembers at most (bounded memory).
    pub limiter_capacity: usize,
    /// Header carrying the client address set by a trusted reverse proxy (e.g. "X-Real-IP"); empty
    /// means the connection's peer address.
    pub client_ip_header: String,
}

impl Default for MemberSettings {
    fn default() -> Self {
        MemberSettings {
            listen: "127.0.0.1:8080".into(),
            database_url: None,
            pg_role: "keydesk_member".into(),
            max_connections: 8,
            max_open_connections: 1024,
            max_body_bytes: 4096,
            max_uri_bytes: 2048,
            request_timeout_ms: 5000,
            header_read_timeout_ms: 5000,
            failures_per_order: 5,
            failures_per_client: 30,
            failure_window_secs: 900,
            limiter_capacity: 100_000,
            client_ip_header: String::new(),
        }
    }
}
