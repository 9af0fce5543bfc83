//! The one error type of the member endpoint: a status, a stable code and a message safe for members,
//! sent as `{"error": {"code": …, "message": …}}`. Internal details are logged, never sent.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::waybill::WaybillError;
use crate::ops::member::MemberError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<Duration>,
}

/// Marks a response as already carrying the endpoint's own error body (JSON, or the page's HTML).
#[derive(Debug, Clone, Copy)]
pub struct ErrorBodyMarker;

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after: None }
    }

    pub fn rate_limited(retry_after: Duration) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "尝试次数过多，请稍后再试")
        }
    }

    pub fn invalid_json() -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "请求内容不是有效的 JSON，或缺少必填字段")
    }

    /// The error for a status that came from the framework (unknown route, body too large, …).
    pub fn for_status(status: StatusCode) -> ApiError {
        let (code, message) = match status.as_u16() {
            400 | 422 => ("invalid_request", "请求无效"),
            404 => ("route_not_found", "没有这个地址"),
            405 => ("method_not_allowed", "不支持这种请求方法"),
            408 => ("timeout", "请求超时，请稍后再试"),
            413 => ("payload_too_large", "请求内容过大"),
            414 => ("uri_too_long", "请求地址过长"),
            415 => ("unsupported_media_type", "请求内容类型不受支持（请使用 application/json）"),
            429 => ("rate_limited", "尝试次数过多，请稍后再试"),
            503 => ("unavailable", "服务暂时不可用，请稍后再试"),
            _ if status.is_client_error() => ("invalid_request", "请求无效"),
            _ => ("internal", "服务内部错误，请稍后再试"),
        };
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError::new(status, code, message)
    }

    pub fn timeout() -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "请求超时，请稍后再试")
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0)).map(|s| s.max(1))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            serde_json::to_vec(&Body { error: Inner { code: self.code, message: &self.message } }).unwrap_or_default();
        let mut response =
            (self.status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"))], body)
                .into_response();
        if let Some(secs) = self.retry_after_secs() {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(ErrorBodyMarker);
        response
    }
}

impl From<MemberError> for ApiError {
    fn from(e: MemberError) -> ApiError {
        match e {
            MemberError::InvalidOrderNo(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_order_no",
                "订单号格式不正确（16 位数字，如 0000250427000004）",
            ),
            MemberError::InvalidPhoneTail => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_phone_tail", e.to_string())
            }
            MemberError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            MemberError::Refused(r) => ApiError::new(StatusCode::CONFLICT, r.code(), r.to_string()),
            MemberError::Waybill(w @ WaybillError::NotSf { .. }) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_sf", w.to_string())
            }
            MemberError::Waybill(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_waybill",
                "无法识别的运单号（顺丰单号为 SF+13 位数字，或旧式 12 位数字）",
            ),
            MemberError::InvoiceNotIssued => ApiError::new(StatusCode::NOT_FOUND, "invoice_not_issued", e.to_string()),
            MemberError::Store(StoreError::Conflict { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", "订单刚刚有更新，请刷新后重试")
            }
            MemberError::Store(StoreError::Unavailable(detail)) => {
                tracing::warn!(%detail, "member endpoint: database unavailable");
                ApiError::for_status(StatusCode::SERVICE_UNAVAILABLE)
            }
            MemberError::Store(other) => {
                tracing::error!(error = %other, "member endpoint: store error");
                ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}
