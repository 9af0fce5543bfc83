//! The HTML face, `GET /` and `POST /`: a minimal page in Chinese that works without JavaScript. The
//! member types the order number and the last four digits of the contact phone; the page shows the
//! status, the timeline, the waybills, the promise and the invoice, with buttons to correct the inbound
//! waybill, download the invoice and confirm receipt. The page keeps no session: each form carries the
//! order number and tail, and posts back to `/`. Errors show the same code and message as the API.

use std::fmt::Write;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::error::{ApiError, ErrorBodyMarker};
use super::view::{order_json, OrderJson};
use super::{ClientAddr, Shared};
use crate::domain::notice::Channel;
use crate::ops::member;

#[derive(Debug, Default, Deserialize)]
pub struct PageForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub order_no: String,
    #[serde(default)]
    pub phone_tail: String,
    #[serde(default)]
    pub waybill: String,
}

pub async fn show(
    State(app): State<Arc<Shared>>,
    Extension(ClientAddr(ip)): Extension<ClientAddr>,
    query: Result<Query<PageForm>, QueryRejection>,
) -> Response {
    let form = query.map(|Query(f)| f).unwrap_or_default();
    if form.order_no.is_empty() && form.phone_tail.is_empty() {
        return page(StatusCode::OK, &form, None, None);
    }
    act_on(&app, ip, PageForm { action: "lookup".into(), ..form }).await
}

pub async fn act(
    State(app): State<Arc<Shared>>,
    Extension(ClientAddr(ip)): Extension<ClientAddr>,
    form: Result<Form<PageForm>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(form)) => act_on(&app, ip, form).await,
        Err(r) => {
            let e = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::for_status(r.status())
            } else {
                ApiError::for_status(StatusCode::BAD_REQUEST)
            };
            page(e.status, &PageForm::default(), None, Some(Notice::Error(e)))
        }
    }
}

enum Notice {
    Done(&'static str),
    Error(ApiError),
}

async fn act_on(app: &Shared, ip: IpAddr, form: PageForm) -> Response {
    let (no, tail) = match app.admit(ip, &form.order_no, &form.phone_tail) {
        Ok(key) => key,
        Err(e) => return page(e.status, &form, None, Some(Notice::Error(e))),
    };
    let store = app.store.as_ref();
    let client = ip.to_string();
    let (result, done) = match form.action.as_str() {
        "inbound_waybill" => {
            (member::set_inbound_waybill(store, &no, &tail, &form.waybill, &client, &app.clock).await, "寄件运单已保存")
        }
        "confirm_receipt" => {
            (member::confirm_receipt(store, &no, &tail, &client, &app.clock).await, "已确认收货，感谢使用")
        }
        "opt_out_sms" | "opt_out_email" => {
            let channel = if form.action == "opt_out_sms" { Channel::Sms } else { Channel::Email };
            let done = if channel == Channel::Sms {
                "已退订本订单的短信通知"
            } else {
                "已退订本订单的邮件通知"
            };
            (member::opt_out(store, &no, &tail, channel, &app.clock).await, done)
        }
        "invoice" => {
            return match app.settle(ip, &no, member::invoice(store, &no, &tail).await) {
                Ok((_, document)) => super::api::pdf_response(document),
                Err(e) => with_order(app, &form, e).await,
            };
        }
        _ => (member::look_up(store, &no, &tail).await, ""),
    };
    match app.settle(ip, &no, result) {
        Ok(order) => page(
            StatusCode::OK,
            &form,
            Some(&full_json(app, &order).await),
            (!done.is_empty()).then_some(Notice::Done(done)),
        ),
        Err(e) => with_order(app, &form, e).await,
    }
}

/// A refused action still shows the order when the number and tail opened it.
async fn with_order(app: &Shared, form: &PageForm, e: ApiError) -> Response {
    let order = match e.code {
        "not_found" | "rate_limited" | "invalid_order_no" | "invalid_phone_tail" => None,
        _ => match (crate::domain::OrderNo::parse(&form.order_no), member::PhoneTail::parse(&form.phone_tail)) {
            (Ok(no), Ok(tail)) => member::look_up(app.store.as_ref(), &no, &tail).await.ok(),
            _ => None,
        },
    };
    let json = match order {
        Some(o) => Some(full_json(app, &o).await),
        None => None,
    };
    page(e.status, form, json.as_ref(), Some(Notice::Error(e)))
}

/// The order as the page shows it, with its notices (a notice list that cannot be read is left out:
/// the order itself was read).
pub(super) async fn full_json(app: &Shared, order: &crate::domain::member::MemberOrder) -> OrderJson {
    let json = order_json(order, &app.rules);
    match member::notices(app.store.as_ref(), order).await {
        Ok((notices, opted_out)) => json.with_notices(&notices, opted_out),
        Err(e) => {
            tracing::warn!(error = %e, "member notices could not be read");
            json
        }
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;margin:0;background:#f5f6f8;color:#222}\
main{max-width:42rem;margin:0 auto;padding:1rem}h1{font-size:1.3rem}section{background:#fff;border-radius:8px;padding:1rem;margin:1rem 0}\
label{display:inline-block;margin:.3rem 1rem .3rem 0}input{padding:.3rem;font-size:1rem}button{padding:.35rem .9rem;font-size:1rem}\
.status{font-size:1.4rem;font-weight:bold}.error{color:#b00020}.done{color:#0a7a2f}ol{padding-left:1.2rem}li.todo{color:#999}\
form.inline{display:inline}small{color:#666}";

fn page(status: StatusCode, form: &PageForm, order: Option<&OrderJson>, notice: Option<Notice>) -> Response {
    let mut h = String::with_capacity(4096);
    h.push_str("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    h.push_str("<meta name=\"robots\" content=\"noindex\"><title>UKey 寄回续签 · 订单进度查询</title><style>");
    h.push_str(STYLE);
    h.push_str("</style></head><body><main><h1>UKey 寄回续签 · 订单进度查询</h1>");
    let no = order.map(|o| o.order_no.to_string()).unwrap_or_else(|| form.order_no.trim().to_string());
    let _ = write!(
        h,
        "<section><form method=\"post\" action=\"/\"><input type=\"hidden\" name=\"action\" value=\"lookup\">\
         <label>订单号 <input name=\"order_no\" value=\"{}\" maxlength=\"32\" inputmode=\"numeric\" required></label>\
         <label>手机号后四位 <input name=\"phone_tail\" maxlength=\"4\" size=\"5\" inputmode=\"numeric\" autocomplete=\"off\" required></label>\
         <button>查询</button></form><small>订单号见平台「采购订单 → 订单管理」；手机号为下单时填写的联系方式。</small></section>",
        esc(&no)
    );
    let mut is_error = false;
    match &notice {
        Some(Notice::Done(text)) => {
            let _ = write!(h, "<p class=\"done\">{}</p>", esc(text));
        }
        Some(Notice::Error(e)) => {
            is_error = true;
            let _ = write!(h, "<p class=\"error\" data-code=\"{}\">{}</p>", e.code, esc(&e.message));
        }
        None => {}
    }
    if let Some(o) = order {
        order_section(&mut h, o, &form.phone_tail);
    }
    h.push_str("</main></body></html>");
    let mut response =
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], h).into_response();
    if let Some(Notice::Error(e)) = notice {
        if let Some(secs) = e.retry_after_secs() {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    if is_error {
        response.extensions_mut().insert(ErrorBodyMarker);
    }
    response
}

/// A form posting back to `/` with the order's key and one action.
fn button(h: &mut String, v: &OrderJson, tail: &str, action: &str, label: &str) {
    let _ = write!(
        h,
        "<form class=\"inline\" method=\"post\" action=\"/\"><input type=\"hidden\" name=\"action\" value=\"{action}\">\
         <input type=\"hidden\" name=\"order_no\" value=\"{}\"><input type=\"hidden\" name=\"phone_tail\" value=\"{}\">\
         <button>{label}</button></form>",
        esc(&v.order_no),
        esc(tail.trim())
    );
}

fn order_section(h: &mut String, v: &OrderJson, tail: &str) {
    let when = |t: &Option<chrono::DateTime<chrono::FixedOffset>>| t.map(|t| t.format("%Y-%m-%d %H:%M").to_string());
    let _ = write!(
        h,
        "<section><div>订单 {}（{}）</div><div class=\"status\">{}</div>",
        esc(&v.order_no),
        v.kind.label,
        v.status.label
    );
    if let Some(hold) = &v.hold {
        let _ = write!(h, "<div>原因：{}（请留意客服联系）</div>", hold.label);
    }
    let _ = write!(
        h,
        "<div><small>联系人 {} {}　寄回地区 {}</small></div></section>",
        esc(&v.holder),
        esc(&v.contact_phone),
        esc(&v.ship_region)
    );

    h.push_str("<section><h2>进度</h2><ol>");
    for s in &v.timeline {
        let _ = write!(
            h,
            "<li class=\"{}\">{} {}",
            if s.done { "done" } else { "todo" },
            if s.done { "✓" } else { "○" },
            s.label
        );
        if let Some(t) = when(&s.at) {
            let _ = write!(h, " <small>{t}</small>");
        }
        if let Some(w) = &s.waybill {
            let _ = write!(h, " <small>顺丰 {}</small>", esc(w));
        }
        h.push_str("</li>");
    }
    h.push_str("</ol>");
    let _ = write!(h, "<p>承诺：{}", v.promise.text);
    // The date the JSON has, or why there is none.
    let received = when(&v.promise.received_at).map(|t| format!("{t} 收到 KEY，")).unwrap_or_default();
    match (v.promise.due_at_status, v.promise.due_at) {
        ("scheduled", Some(due)) => {
            let _ = write!(h, "（{received}最晚 <strong>{}</strong> 前寄回）", crate::sla::due::format_instant_zh(due));
        }
        ("provisional", _) => {
            let _ = write!(h, "（{received}寄回期限所在年份的节假日安排尚未公布，公布后确认具体日期）");
        }
        ("no_calendar", _) => {
            let _ = write!(h, "（{received}寄回期限所在年份的法定节假日安排尚未载入，暂时无法给出日期）");
        }
        _ => h.push_str("（收到您寄来的 KEY 后开始计算）"),
    }
    h.push_str("</p></section>");

    h.push_str("<section><h2>运单</h2>");
    let _ = write!(
        h,
        "<div>寄来（{}）：{}</div>",
        esc(&v.inbound.carrier),
        esc(v.inbound.waybill.as_deref().unwrap_or("未填写"))
    );
    if v.inbound.editable {
        let _ = write!(
            h,
            "<form method=\"post\" action=\"/\"><input type=\"hidden\" name=\"action\" value=\"inbound_waybill\">\
             <input type=\"hidden\" name=\"order_no\" value=\"{}\"><input type=\"hidden\" name=\"phone_tail\" value=\"{}\">\
             <label>填写或更正顺丰单号 <input name=\"waybill\" maxlength=\"32\" placeholder=\"SF1234567890123\" required></label>\
             <button>保存</button></form><small>平台只接受顺丰快递。</small>",
            esc(&v.order_no),
            esc(tail.trim())
        );
    }
    if let Some(out) = &v.outbound {
        let _ = write!(h, "<div>寄回（{}）：{}</div>", esc(&out.carrier), esc(out.waybill.as_deref().unwrap_or("")));
    }
    h.push_str("</section><section><h2>发票与收货</h2>");
    let _ = write!(h, "<div>发票：{}", v.invoice.status.label);
    if v.invoice.available {
        h.push(' ');
        button(h, v, tail, "invoice", "下载发票（PDF）");
    }
    h.push_str("</div>");
    if v.can_confirm_receipt {
        h.push_str("<div>收到寄回的 KEY 后请确认收货：");
        button(h, v, tail, "confirm_receipt", "确认收货");
        h.push_str("</div>");
    }
    h.push_str("</section><section><h2>通知</h2>");
    if v.notices.is_empty() {
        h.push_str("<div><small>暂无通知</small></div>");
    } else {
        h.push_str("<ul>");
        for n in &v.notices {
            let _ = write!(
                h,
                "<li>{} <small>{} · {} · {}</small></li>",
                n.label,
                n.channel.label(),
                n.state.label(),
                n.at.format("%Y-%m-%d %H:%M")
            );
        }
        h.push_str("</ul>");
    }
    for (channel, action) in [(Channel::Sms, "opt_out_sms"), (Channel::Email, "opt_out_email")] {
        if v.opted_out.contains(&channel) {
            let _ = write!(h, "<div><small>已退订{}通知</small></div>", channel.label());
        } else {
            h.push_str("<div>");
            button(h, v, tail, action, &format!("退订{}通知", channel.label()));
            h.push_str("</div>");
        }
    }
    h.push_str("</section>");
}
