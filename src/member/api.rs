//! The JSON face: `/api/v1/orders/{order_no}` and its member actions, `/healthz`, `/metrics` and the
//! OpenAPI document. Every order route is admitted by [`Shared::admit`] (limits, then parsing) and
//! settled by [`Shared::settle`] (a failed lookup counts against the order number and the client).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::error::ApiError;
use super::metrics::Refusal;
use super::view::{order_json, OrderJson};
use super::{ClientAddr, Shared};
use crate::domain::OrderNo;
use crate::ops::member::{self, MemberError, PhoneTail};

impl Shared {
    /// Refuses a client or an order number past its failure limit, then parses the request's key.
    pub fn admit(&self, ip: IpAddr, raw_no: &str, raw_tail: &str) -> Result<(OrderNo, PhoneTail), ApiError> {
        let parsed = OrderNo::parse(raw_no);
        let key = parsed.as_ref().ok().map(OrderNo::as_str);
        if let Err(retry) = self.limiter.check(ip, key, Instant::now()) {
            self.metrics.refused(Refusal::RateLimited);
            return Err(ApiError::rate_limited(retry));
        }
        let parsed = parsed.map_err(MemberError::from).and_then(|no| Ok((no, PhoneTail::parse(raw_tail)?)));
        parsed.map_err(|e| {
            // Malformed input names no order: it counts against the client only.
            self.limiter.record_failure(ip, None, Instant::now());
            self.metrics.refused(Refusal::Invalid);
            ApiError::from(e)
        })
    }

    /// Counts a failed lookup (unknown order or wrong tail: one answer) and converts errors.
    pub fn settle<T>(&self, ip: IpAddr, no: &OrderNo, result: Result<T, MemberError>) -> Result<T, ApiError> {
        result.map_err(|e| {
            if matches!(e, MemberError::NotFound) {
                self.limiter.record_failure(ip, Some(no.as_str()), Instant::now());
                self.metrics.refused(Refusal::NotFound);
            }
            ApiError::from(e)
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TailQuery {
    #[serde(default)]
    pub phone_tail: String,
}

#[derive(Debug, Deserialize)]
pub struct InboundBody {
    pub phone_tail: String,
    pub waybill: String,
}

#[derive(Debug, Deserialize)]
pub struct TailBody {
    pub phone_tail: String,
}

fn path_param(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(s)| s).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_order_no", "订单号格式不正确"))
}

fn query_param(q: Result<Query<TailQuery>, QueryRejection>) -> Result<TailQuery, ApiError> {
    q.map(|Query(t)| t).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", "请求参数无效"))
}

fn json_body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t).map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::for_status(r.status()),
        _ => ApiError::invalid_json(),
    })
}

pub async fn order(
    State(app): State<Arc<Shared>>,
    Extension(ClientAddr(ip)): Extension<ClientAddr>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<TailQuery>, QueryRejection>,
) -> Result<Json<OrderJson>, ApiError> {
    let (raw_no, q) = (path_param(path)?, query_param(query)?);
    let (no, tail) = app.admit(ip, &raw_no, &q.phone_tail)?;
    let order = app.settle(ip, &no, member::look_up(app.store.as_ref(), &no, &tail).await)?;
    Ok(Json(order_json(&order, &app.rules)))
}

pub async fn inbound_waybill(
    State(app): State<Arc<Shared>>,
    Extension(ClientAddr(ip)): Extension<ClientAddr>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<InboundBody>, JsonRejection>,
) -> Result<Json<OrderJson>, ApiError> {
    let (raw_no, body) = (path_param(path)?, json_body(body)?);
    let (no, tail) = app.admit(ip, &raw_no, &body.phone_tail)?;
    let result =
        member::set_inbound_waybill(app.store.as_ref(), &no, &tail, &body.waybill, &ip.to_string(), &app.clock).await;
    Ok(Json(order_json(&app.settle(ip, &no, result)?, &app.rules)))
}

pub async fn confirm_receipt(
    State(app): State<Arc<Shared>>,
    Extension(ClientAddr(ip)): Extension<ClientAddr>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<TailBody>, JsonRejection>,
) -> Result<Json<OrderJson>, ApiError> {
    let (raw_no, body) = (path_param(path)?, json_body(body)?);
    let (no, tail) = app.admit(ip, &raw_no, &body.phone_tail)?;
    let result = member::confirm_receipt(app.store.as_ref(), &no, &tail, &ip.to_string(), &app.clock).await;
    Ok(Json(order_json(&app.settle(ip, &no, result)?, &app.rules)))
}

pub async fn invoice_pdf(
    State(app): State<Arc<Shared>>,
    Extension(ClientAddr(ip)): Extension<ClientAddr>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<TailQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (raw_no, q) = (path_param(path)?, query_param(query)?);
    let (no, tail) = app.admit(ip, &raw_no, &q.phone_tail)?;
    let (_, document) = app.settle(ip, &no, member::invoice(app.store.as_ref(), &no, &tail).await)?;
    Ok(pdf_response(document))
}

pub fn pdf_response(document: crate::store::InvoiceDocument) -> Response {
    let name: String = document.number.chars().filter(char::is_ascii_alphanumeric).collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"fapiao-{name}.pdf\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        document.pdf,
    )
        .into_response()
}

pub async fn healthz(State(app): State<Arc<Shared>>) -> Result<Json<serde_json::Value>, ApiError> {
    match app.store.ping().await {
        Ok(()) => Ok(Json(serde_json::json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "member endpoint: health check failed");
            Err(ApiError::for_status(StatusCode::SERVICE_UNAVAILABLE))
        }
    }
}

pub async fn metrics(State(app): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))],
        app.metrics.render(),
    )
        .into_response()
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], super::openapi::DOCUMENT.as_str())
        .into_response()
}
