//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, written by hand next to the routes it
//! describes (a test checks every route is in it). Its patterns are the server's own checks written
//! as regular expressions — an order number's shape and a date that exists, four phone digits, an SF
//! waybill — so a client generated from it never sends what the server refuses (a test holds the two
//! together, exhaustively over the embedded date).

/// A `yymmdd` that exists (20yy; Feb 29 only in leap years).
const DATE: &str = "(?:[0-9]{2}(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)|02(?:0[1-9]|1[0-9]|2[0-8]))|(?:[02468][048]|[13579][26])0229)";

/// An order number as the server accepts it: `0000` + yymmdd + 6 digits, or `ZFS00000` + yymmdd + 5.
pub fn order_no_pattern() -> String {
    format!("^(?:0000{DATE}[0-9]{{6}}|ZFS00000{DATE}[0-9]{{5}})$")
}

/// The last four digits of the contact phone.
pub const PHONE_TAIL_PATTERN: &str = "^[0-9]{4}$";

/// An SF waybill: `SF` + 13 digits, or the legacy 12 digits.
pub const WAYBILL_PATTERN: &str = "^(?:SF[0-9]{13}|[0-9]{12})$";

use std::sync::LazyLock;

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn order_response() -> Value {
    json!({ "description": "The order as a member may see it", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Order" } } } })
}

fn common_errors() -> Value {
    json!({
        "400": error_response("invalid_order_no, invalid_phone_tail, invalid_json or invalid_request"),
        "404": error_response("not_found: unknown order or wrong phone tail (one answer for both)"),
        "413": error_response("payload_too_large"),
        "429": {
            "description": "rate_limited: too many failed lookups for this order number or from this client",
            "headers": { "Retry-After": { "schema": { "type": "integer" }, "description": "seconds" } },
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
        },
        "503": error_response("unavailable or timeout")
    })
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

pub static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let order_no = json!({ "name": "order_no", "in": "path", "required": true, "schema": { "type": "string", "pattern": order_no_pattern() }, "example": "0000250427000004" });
    let tail = json!({ "type": "string", "pattern": PHONE_TAIL_PATTERN, "description": "手机号后四位" });
    let tail_query = json!({ "name": "phone_tail", "in": "query", "required": true, "schema": tail });
    let labelled = json!({ "type": "object", "properties": { "code": { "type": "string" }, "label": { "type": "string" } }, "required": ["code", "label"] });
    let doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "keydesk member endpoint",
            "version": "1",
            "description": "UKey 寄回续签: members follow their order with its number and the last four digits of the contact phone. Only masked personal data is returned. Every error is {\"error\": {\"code\", \"message\"}} with a stable code."
        },
        "paths": {
            "/api/v1/orders/{order_no}": { "get": {
                "summary": "Status, timeline, waybills, promise and invoice of an order",
                "parameters": [order_no, tail_query],
                "responses": merge(json!({ "200": order_response() }), common_errors())
            }},
            "/api/v1/orders/{order_no}/inbound-waybill": { "put": {
                "summary": "Enter or correct the SF waybill of the parcel the member sent (before it is received)",
                "parameters": [order_no],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["phone_tail", "waybill"],
                    "properties": { "phone_tail": tail, "waybill": { "type": "string", "pattern": WAYBILL_PATTERN, "example": "SF1234567890123" } } } } } },
                "responses": merge(json!({
                    "200": order_response(),
                    "409": error_response("already_received, order_closed or conflict"),
                    "415": error_response("unsupported_media_type"),
                    "422": error_response("not_sf or invalid_waybill")
                }), common_errors())
            }},
            "/api/v1/orders/{order_no}/confirm-receipt": { "post": {
                "summary": "确认收货: a shipped order becomes completed, once",
                "parameters": [order_no],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["phone_tail"], "properties": { "phone_tail": tail } } } } },
                "responses": merge(json!({
                    "200": order_response(),
                    "409": error_response("not_shipped, already_completed, order_closed or conflict"),
                    "415": error_response("unsupported_media_type")
                }), common_errors())
            }},
            "/api/v1/orders/{order_no}/invoice.pdf": { "get": {
                "summary": "The stored invoice document",
                "parameters": [order_no, tail_query],
                "responses": merge(json!({
                    "200": { "description": "The PDF", "content": { "application/pdf": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": error_response("not_found, or invoice_not_issued when the tail is right but no invoice is stored yet")
                }), common_errors())
            }},
            "/healthz": { "get": { "summary": "Liveness and database reachability", "responses": {
                "200": { "description": "{\"status\": \"ok\"}" }, "503": error_response("unavailable") } } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "text exposition format" } } } },
            "/api/v1/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3.1" } } } }
        },
        "components": { "schemas": {
            "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message"],
                "properties": { "code": { "type": "string", "enum": ["invalid_order_no", "invalid_phone_tail", "invalid_json", "invalid_request",
                    "not_found", "rate_limited", "already_received", "order_closed", "not_shipped", "already_completed", "not_sf",
                    "invalid_waybill", "invoice_not_issued", "conflict", "route_not_found", "method_not_allowed", "payload_too_large",
                    "uri_too_long", "unsupported_media_type", "timeout", "unavailable", "internal"] },
                    "message": { "type": "string", "description": "for people, in Chinese" } } } } },
            "Labelled": labelled,
            "Order": { "type": "object", "properties": {
                "order_no": { "type": "string" },
                "kind": { "$ref": "#/components/schemas/Labelled" },
                "status": { "$ref": "#/components/schemas/Labelled" },
                "hold": { "oneOf": [{ "$ref": "#/components/schemas/Labelled" }, { "type": "null" }] },
                "holder": { "type": "string", "example": "秦**" },
                "contact_phone": { "type": "string", "example": "188****6015" },
                "ship_region": { "type": "string" },
                "timeline": { "type": "array", "items": { "type": "object", "properties": {
                    "step": { "type": "string", "enum": ["paid", "received", "renewing", "renewed", "shipped", "delivered", "completed"] },
                    "label": { "type": "string" }, "done": { "type": "boolean" },
                    "at": { "type": ["string", "null"], "format": "date-time" }, "waybill": { "type": "string" } } } },
                "inbound": { "type": "object", "properties": { "carrier": { "type": "string" }, "waybill": { "type": ["string", "null"] }, "editable": { "type": "boolean" } } },
                "outbound": { "type": ["object", "null"], "properties": { "carrier": { "type": "string" }, "waybill": { "type": "string" } } },
                "promise": { "type": "object", "properties": {
                    "text": { "type": "string" }, "working_days": { "type": "integer" },
                    "received_at": { "type": ["string", "null"], "format": "date-time" },
                    "due_at": { "type": ["string", "null"], "format": "date-time", "description": "the close of the second working day after the key was received; null before the clock starts, or when that year has no holiday calendar yet" },
                    "due_at_status": { "type": "string", "enum": ["scheduled", "not_started", "provisional", "no_calendar"] } } },
                "invoice": { "type": "object", "properties": { "status": { "$ref": "#/components/schemas/Labelled" }, "available": { "type": "boolean" },
                    "number": { "type": ["string", "null"] }, "href": { "type": ["string", "null"] } } },
                "can_confirm_receipt": { "type": "boolean" }
            } }
        } }
    });
    doc.to_string()
});
