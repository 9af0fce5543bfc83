//! The member endpoint, `keydesk serve`: a small internet-facing HTTP service over the same database
//! as the desk, where members follow their order with its number and the last four digits of the
//! contact phone. Two faces over `ops::member`: the page (`page.rs`) and the JSON API (`api.rs`).
//!
//! Every request passes through [`handle`]: the client address is taken, the request target's length
//! checked, the router run under a timeout, any error the framework produced turned into the JSON error
//! body, the security headers set and the metrics counted. Connections are served by hyper with a
//! header read timeout and a cap on open connections.

pub mod api;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod page;
pub mod settings;
pub mod view;

pub use settings::MemberSettings;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Request, Response};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::store::Store;
use error::{ApiError, ErrorBodyMarker};
use limits::FailureLimiter;
use metrics::Metrics;

/// What every handler shares.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub limiter: FailureLimiter,
    pub metrics: Metrics,
    pub settings: MemberSettings,
    /// The working-day calendar, for the ship-by time promised to members.
    pub rules: crate::sla::ClockRules,
    /// Stamps the members' own changes (receipt confirmed, waybill entered).
    pub clock: crate::clock::Clock,
}

/// The client's address as the endpoint sees it (peer, or the trusted proxy's header).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The endpoint: its shared state and its routes.
#[derive(Clone)]
pub struct App {
    shared: Arc<Shared>,
    router: Router,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        settings: MemberSettings,
        rules: crate::sla::ClockRules,
        clock: crate::clock::Clock,
    ) -> App {
        let limiter = FailureLimiter::new(
            settings.failures_per_order,
            settings.failures_per_client,
            Duration::from_secs(settings.failure_window_secs),
            settings.limiter_capacity,
        );
        let shared = Arc::new(Shared { store, limiter, metrics: Metrics::default(), settings, rules, clock });
        let router = Router::new()
            .route("/", get(page::show).post(page::act))
            .route("/api/v1/orders/{order_no}", get(api::order))
            .route("/api/v1/orders/{order_no}/inbound-waybill", put(api::inbound_waybill))
            .route("/api/v1/orders/{order_no}/invoice.pdf", get(api::invoice_pdf))
            .route("/api/v1/orders/{order_no}/confirm-receipt", post(api::confirm_receipt))
            .route("/healthz", get(api::healthz))
            .route("/metrics", get(api::metrics))
            .route("/api/v1/openapi.json", get(api::openapi))
            .layer(DefaultBodyLimit::max(shared.settings.max_body_bytes))
            .with_state(shared.clone());
        App { shared, router }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// One request, from the connection to the response.
pub async fn handle<B>(app: App, peer: SocketAddr, mut req: Request<B>) -> Result<Response<Body>, Infallible>
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let started = Instant::now();
    let s = &app.shared.settings;
    let route = metrics::route_of(req.uri().path());
    let client = client_ip(&s.client_ip_header, peer, req.headers());
    req.extensions_mut().insert(ClientAddr(client));
    let target_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let response = if target_len > s.max_uri_bytes {
        ApiError::for_status(axum::http::StatusCode::URI_TOO_LONG).into_response()
    } else {
        let timeout = Duration::from_millis(s.request_timeout_ms);
        match tokio::time::timeout(timeout, app.router.clone().oneshot(req.map(Body::new))).await {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(_) => ApiError::timeout().into_response(),
        }
    };
    let mut response = json_errors_only(response);
    security_headers(response.headers_mut());
    app.shared.metrics.observe(route, response.status().as_u16(), started.elapsed());
    Ok(response)
}

fn client_ip(header_name: &str, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if !header_name.is_empty() {
        let from_proxy = headers
            .get(header_name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if let Some(ip) = from_proxy {
            return ip;
        }
    }
    peer.ip()
}

/// Errors the framework produced itself (unknown route, wrong method, body too large, …) get the
/// endpoint's JSON error body too; no framework text reaches a member.
fn json_errors_only(response: Response<Body>) -> Response<Body> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<ErrorBodyMarker>().is_some()
    {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut replaced = ApiError::for_status(status).into_response();
    if let Some(allow) = allow {
        replaced.headers_mut().insert(header::ALLOW, allow);
    }
    replaced
}

fn security_headers(h: &mut HeaderMap) {
    const HEADERS: [(&str, &str); 8] = [
        ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("cross-origin-resource-policy", "same-origin"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ("strict-transport-security", "max-age=31536000"),
    ];
    for (name, value) in HEADERS {
        h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
}

/// A running endpoint: its address, and a way to stop it.
pub struct Running {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets open requests finish, and waits for the connections to close.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds `listen` and serves the endpoint until [`Running::stop`].
pub async fn start(listen: SocketAddr, app: App) -> std::io::Result<Running> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, app, stopped));
    Ok(Running { addr, stop, task })
}

async fn accept_loop(listener: TcpListener, app: App, mut stopped: watch::Receiver<bool>) {
    let s = &app.shared.settings;
    let open = Arc::new(Semaphore::new(s.max_open_connections as usize));
    let header_timeout = Duration::from_millis(s.header_read_timeout_ms);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = open.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stopped.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "member endpoint: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stopped.clone();
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req| handle(app.clone(), peer, req));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(16 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
                }
            }
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}
