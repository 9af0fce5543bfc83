//! SF route events (路由): what SF says happened to a parcel, as a push body or a route query
//! answer carries it. Parsing is strict about types and required fields, lenient about fields SF adds
//! later: a push that does not parse is refused whole, so nothing of it is written.
//!
//! `acceptTime` is Beijing wall time (`2026-12-02 10:15:00`); it becomes an instant here.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use super::waybill::Waybill;

/// Op code 50: SF picked the parcel up (揽收).
pub const OP_PICKED_UP: &str = "50";
/// Op code 44: out for delivery (派送中).
pub const OP_OUT_FOR_DELIVERY: &str = "44";
/// Op code 80: delivered, signed for (签收).
pub const OP_DELIVERED: &str = "80";

/// One route event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteEvent {
    /// SF's id of the event: the same id twice is the same event.
    pub route_id: String,
    pub waybill: Waybill,
    pub op_code: String,
    pub accept_time: DateTime<Utc>,
    pub accept_address: String,
    pub remark: String,
    pub reason_code: String,
    /// SF's `orderid` (our booking id for parcels the partner created; often empty otherwise).
    pub sf_order_id: String,
}

/// Which of an order's two parcels a waybill is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The member's parcel to the desk.
    Inbound,
    /// The renewed key back to the member.
    Outbound,
}

impl Direction {
    pub fn code(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    pub fn from_code(code: &str) -> Option<Direction> {
        match code {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// Why a push body (or a query answer's route list) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RouteError {
    #[error("路由推送不是合法 JSON：{0}")]
    NotJson(String),
    #[error("路由推送缺少 Body.WaybillRoute 数组")]
    NoRoutes,
    #[error("路由推送的 Body.WaybillRoute 为空")]
    Empty,
    #[error("第 {index} 条路由字段 {field} 缺失或类型不对（应为字符串）")]
    Field { index: usize, field: &'static str },
    #[error("第 {index} 条路由的运单号 {value} 不是顺丰运单号")]
    Waybill { index: usize, value: String },
    #[error("第 {index} 条路由的时间 {value} 无法识别（应为 YYYY-MM-DD HH:MM:SS）")]
    Time { index: usize, value: String },
}

/// `acceptTime` (Beijing wall time) as an instant.
pub fn parse_accept_time(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    super::BEIJING.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
}

/// An instant as SF writes `acceptTime`.
pub fn format_accept_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&super::BEIJING).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A push body: `{"Body":{"WaybillRoute":[…]}}`.
pub fn parse_push(body: &str) -> Result<Vec<RouteEvent>, RouteError> {
    let value: Value = serde_json::from_str(body).map_err(|e| RouteError::NotJson(e.to_string()))?;
    let routes = value.get("Body").and_then(|b| b.get("WaybillRoute")).ok_or(RouteError::NoRoutes)?;
    parse_routes(routes)
}

/// A JSON array of route objects, as a push carries them (`WaybillRoute`). The route query's
/// answer has other field names: [`parse_route_query`].
pub fn parse_routes(routes: &Value) -> Result<Vec<RouteEvent>, RouteError> {
    let list = routes.as_array().ok_or(RouteError::NoRoutes)?;
    if list.is_empty() {
        return Err(RouteError::Empty);
    }
    list.iter().enumerate().map(|(index, r)| parse_one(index + 1, r)).collect()
}

fn parse_one(index: usize, r: &Value) -> Result<RouteEvent, RouteError> {
    let required = |field: &'static str| -> Result<String, RouteError> {
        match r.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(RouteError::Field { index, field }),
        }
    };
    let optional = |field: &'static str| -> Result<String, RouteError> {
        match r.get(field) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            _ => Err(RouteError::Field { index, field }),
        }
    };
    let mailno = required("mailno")?;
    let waybill = Waybill::parse(&mailno).map_err(|_| RouteError::Waybill { index, value: mailno.clone() })?;
    let time_text = required("acceptTime")?;
    let accept_time = parse_accept_time(&time_text).ok_or(RouteError::Time { index, value: time_text })?;
    Ok(RouteEvent {
        route_id: required("id")?,
        waybill,
        op_code: required("opCode")?,
        accept_time,
        accept_address: optional("acceptAddress")?,
        remark: optional("remark")?,
        reason_code: optional("reasonCode")?,
        sf_order_id: optional("orderid")?,
    })
}

/// The route query's answer (`EXP_RECE_SEARCH_ROUTES`'s msgData): `{"routeResps":[{"mailNo":"SF…",
/// "routes":[{"acceptTime","acceptAddress","remark","opCode"}]}]}`. The query gives no event id, so
/// an event is named by what it is (`query:WAYBILL:OP:TIME`): asking again yields the same names, and
/// the store keeps each once. (The same event pushed carries SF's own id and is stored beside it; the
/// order's instants keep the earliest, so the two agree.)
pub fn parse_route_query(msg_data: &Value) -> Result<Vec<RouteEvent>, RouteError> {
    let resps = msg_data.get("routeResps").and_then(Value::as_array).ok_or(RouteError::NoRoutes)?;
    let mut out = Vec::new();
    for resp in resps {
        let mailno = match resp.get("mailNo") {
            Some(Value::String(s)) => s.trim().to_string(),
            _ => return Err(RouteError::Field { index: out.len() + 1, field: "mailNo" }),
        };
        let routes = match resp.get("routes") {
            None | Some(Value::Null) => continue,
            Some(Value::Array(list)) => list,
            _ => return Err(RouteError::Field { index: out.len() + 1, field: "routes" }),
        };
        for r in routes {
            let index = out.len() + 1;
            let mut event = serde_json::Map::new();
            event.insert("mailno".into(), Value::String(mailno.clone()));
            for (from, to) in [
                ("acceptTime", "acceptTime"),
                ("opCode", "opCode"),
                ("acceptAddress", "acceptAddress"),
                ("remark", "remark"),
            ] {
                if let Some(v) = r.get(from) {
                    event.insert(to.into(), v.clone());
                }
            }
            let name = |field: &str| event.get(field).and_then(Value::as_str).unwrap_or_default().trim().to_string();
            let id = format!("query:{mailno}:{}:{}", name("opCode"), name("acceptTime"));
            event.insert("id".into(), Value::String(id));
            out.push(parse_one(index, &Value::Object(event))?);
        }
    }
    Ok(out)
}

/// The push answer SF expects on success.
pub const PUSH_OK: &str = r#"{"return_code":"0000","return_msg":"成功"}"#;

/// A refusal SF will retry, with a message for whoever reads SF's logs.
pub fn push_refusal(code: &str, message: &str) -> String {
    serde_json::json!({ "return_code": code, "return_msg": message }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(routes: &str) -> String {
        format!(r#"{{"Body":{{"WaybillRoute":[{routes}]}}}}"#)
    }

    #[test]
    fn reads_every_event_of_a_push_with_beijing_time() {
        let body = push(
            r#"{"mailno":"sf1234567890123","id":"r1","acceptTime":"2026-12-02 10:15:00","acceptAddress":"北京市",
                "remark":"顺丰速运 已收取快件","opCode":"50","reasonCode":"","orderid":"o1","extra":1},
               {"mailno":"SF1234567890123","id":"r2","acceptTime":"2026-12-03 09:00:00","opCode":"80"}"#,
        );
        let events = parse_push(&body).expect("parses");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].waybill.as_str(), "SF1234567890123");
        assert_eq!(events[0].accept_time.to_rfc3339(), "2026-12-02T02:15:00+00:00");
        assert_eq!(format_accept_time(events[0].accept_time), "2026-12-02 10:15:00");
        assert_eq!(events[1].remark, "");
    }

    #[test]
    fn refuses_wrong_types_missing_fields_and_bad_values() {
        let ok = r#""mailno":"SF1234567890123","acceptTime":"2026-12-02 10:15:00""#;
        assert!(matches!(parse_push("{"), Err(RouteError::NotJson(_))));
        assert_eq!(parse_push(r#"{"Body":{}}"#), Err(RouteError::NoRoutes));
        assert_eq!(parse_push(&push("")), Err(RouteError::Empty));
        assert_eq!(
            parse_push(&push(&format!(r#"{{{ok},"id":"r1","opCode":50}}"#))),
            Err(RouteError::Field { index: 1, field: "opCode" })
        );
        assert_eq!(
            parse_push(&push(&format!(r#"{{{ok},"opCode":"50"}}"#))),
            Err(RouteError::Field { index: 1, field: "id" })
        );
        assert!(matches!(
            parse_push(&push(r#"{"mailno":"YT1234567890","id":"r","acceptTime":"2026-12-02 10:15:00","opCode":"50"}"#)),
            Err(RouteError::Waybill { .. })
        ));
        assert!(matches!(
            parse_push(&push(r#"{"mailno":"SF1234567890123","id":"r","acceptTime":"2026/12/02","opCode":"50"}"#)),
            Err(RouteError::Time { .. })
        ));
    }
}
