//! The SF route push receiver, `keydesk routes serve`: a listener of its own (not the member
//! endpoint: SF is a different caller with different rights) where SF posts route events.
//!
//! A push is checked, in order: the caller's address against `routes.allow`, the secret path, the
//! method, the body's size, SF's digest where present (`msgDigest` and `timestamp` as query
//! parameters or headers, `Base64(MD5(urlencode(body + timestamp + checkWord)))` with
//! `courier.check_word`), and the body's shape. Only then is it written, all events in one
//! transaction, and answered `{"return_code":"0000","return_msg":"成功"}`. Any refusal answers a
//! non-0000 code with a plain reason and writes nothing; SF retries refused pushes. A push whose
//! events are all known already is acknowledged and changes nothing.

pub mod settings;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;

use settings::AllowedNet;
pub use settings::RouteSettings;

use crate::clock::Clock;
use crate::domain::route::{parse_push, push_refusal, PUSH_OK};
use crate::outbound::courier::sf::msg_digest;
use crate::outbound::courier::Secret;
use crate::store::{RouteSource, Store};

/// What the receiver needs.
pub struct Receiver {
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    pub secret_path: Secret,
    pub allowed: Vec<AllowedNet>,
    /// `courier.check_word`: verifies a push's digest.
    pub check_word: Secret,
    pub require_digest: bool,
    pub max_body_bytes: usize,
    pub timeout: Duration,
}

/// Why the receiver cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    #[error("routes.{0} 未配置：路由推送接收端拒绝启动")]
    NotConfigured(&'static str),
    #[error("{0}：{1}")]
    Invalid(&'static str, String),
}

impl Receiver {
    pub fn new(
        settings: &RouteSettings,
        check_word: Secret,
        store: Arc<dyn Store>,
        clock: Clock,
    ) -> Result<Receiver, ReceiverError> {
        settings.check().map_err(|(k, m)| ReceiverError::Invalid(k, m))?;
        if settings.secret_path.is_empty() {
            return Err(ReceiverError::NotConfigured("secret_path"));
        }
        if settings.allow.is_empty() {
            return Err(ReceiverError::NotConfigured("allow"));
        }
        if settings.require_digest && check_word.is_empty() {
            return Err(ReceiverError::Invalid("routes.require_digest", "needs courier.check_word".into()));
        }
        Ok(Receiver {
            store,
            clock,
            secret_path: settings.secret_path.clone(),
            allowed: settings.allowed().map_err(|e| ReceiverError::Invalid("routes.allow", e))?,
            check_word,
            require_digest: settings.require_digest,
            max_body_bytes: settings.max_body_bytes,
            timeout: Duration::from_secs(settings.request_timeout_secs),
        })
    }
}

/// A refusal: its HTTP status, SF-facing code and reason.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, push_refusal(code, message))
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

/// Compares without stopping at the first difference (the path is a secret).
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `name` from the query string or, failing that, the headers.
fn parameter(query: &HashMap<String, String>, headers: &HeaderMap, name: &str) -> Option<String> {
    query.get(name).cloned().or_else(|| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string))
}

/// Handles one request from `peer`.
pub async fn receive(receiver: &Receiver, peer: SocketAddr, request: Request) -> Response {
    if !receiver.allowed.iter().any(|net| net.contains(peer.ip())) {
        tracing::warn!(peer = %peer.ip(), "route push from an address not allowed");
        return refuse(StatusCode::FORBIDDEN, "4003", "来源地址不在允许列表中");
    }
    if !same_secret(request.uri().path(), receiver.secret_path.expose()) {
        return refuse(StatusCode::NOT_FOUND, "4004", "路径不存在");
    }
    if request.method() != Method::POST {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "4005", "只接受 POST");
    }
    let query = match Query::<HashMap<String, String>>::try_from_uri(request.uri()) {
        Ok(Query(q)) => q,
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "4000", "查询参数无法识别"),
    };
    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, receiver.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "4013", "推送内容过大或读取失败"),
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "4000", "推送内容不是 UTF-8");
    };
    match parameter(&query, &parts.headers, "msgDigest") {
        Some(digest) => {
            let timestamp = parameter(&query, &parts.headers, "timestamp").unwrap_or_default();
            if receiver.check_word.is_empty()
                || !same_secret(&digest, &msg_digest(text, &timestamp, receiver.check_word.expose()))
            {
                tracing::warn!(peer = %peer.ip(), "route push with a wrong digest");
                return refuse(StatusCode::UNAUTHORIZED, "4001", "签名 msgDigest 不正确");
            }
        }
        None if receiver.require_digest => return refuse(StatusCode::UNAUTHORIZED, "4001", "缺少签名 msgDigest"),
        None => {}
    }
    let events = match parse_push(text) {
        Ok(events) => events,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "4000", &e.to_string()),
    };
    match receiver.store.record_routes(&events, text, RouteSource::Push, receiver.clock.now()).await {
        Ok(outcome) => {
            tracing::info!(
                stored = outcome.stored,
                duplicates = outcome.duplicates,
                unmatched = outcome.unmatched,
                "route push recorded"
            );
            json_response(StatusCode::OK, PUSH_OK.to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, "route push not recorded");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "5000", "暂时无法记录，请重试")
        }
    }
}

/// The receiver as an axum app: every path goes to [`receive`] under the timeout.
pub fn app(receiver: Arc<Receiver>) -> Router {
    Router::new().fallback(move |ConnectInfo(peer): ConnectInfo<SocketAddr>, request: Request<Body>| {
        let receiver = receiver.clone();
        async move {
            match tokio::time::timeout(receiver.timeout, receive(&receiver, peer, request)).await {
                Ok(response) => response,
                Err(_) => refuse(StatusCode::REQUEST_TIMEOUT, "4008", "推送超时"),
            }
        }
    })
}

/// Serves pushes on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    receiver: Arc<Receiver>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(receiver).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
