//! A stand-in for SF's open platform (丰桥) on 127.0.0.1, checking what SF checks: the six form
//! fields, a known partner, a service the partner may use, and `msgDigest` recomputed from
//! `msgData + timestamp + checkWord` with Java URLEncoder semantics (written here independently of
//! keydesk's own encoder). It answers in SF's envelope (`apiResultCode`, `apiResultData` as a JSON
//! string), returns the first waybill again for a repeated `orderId`, and serves cloud-print label
//! downloads guarded by `X-Auth-token`.
//!
//! A plain HTTP/1.1 server on std's TcpListener, one connection at a time, `Connection: close`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{json, Value};

/// One form POST the mock received.
#[derive(Debug, Clone)]
pub struct Received {
    pub fields: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    orders: HashMap<String, String>,
    next_waybill: u64,
    request_ids: Vec<String>,
    received: Vec<Received>,
    downloads: HashMap<String, (String, Vec<u8>)>,
    /// Route events SF knows per waybill, with the phone tail it checks (`checkPhoneNo`).
    routes: HashMap<String, (String, Vec<Value>)>,
    /// Answers every call with A1009 (service unavailable), as SF does when it is down.
    down: bool,
}

pub struct SfMock {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub const PARTNER_ID: &str = "KEYDESK_TEST";
pub const CHECK_WORD: &str = "test-check-word 顺丰*";
/// The PDF the mock's cloud print hands out.
pub const SF_LABEL_PDF: &[u8] = b"%PDF-1.4\n% SF cloud print label\n%%EOF\n";

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Java `URLEncoder.encode(s, "UTF-8")`, written out again for the mock.
fn java_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"*-._".contains(&b) {
                (b as char).to_string()
            } else if b == b' ' {
                "+".to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn envelope(code: &str, message: &str, data: Option<Value>) -> Value {
    json!({
        "apiErrorMsg": message,
        "apiResponseID": "0001",
        "apiResultCode": code,
        "apiResultData": data.map(|d| d.to_string()),
    })
}

impl SfMock {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind mock SF");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let state = Arc::new(Mutex::new(State { next_waybill: 1_234_567_890_123, ..State::default() }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !sp.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        handle(stream, &st, port);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Self { port, state, stop, thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/std/service", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("state").received.clone()
    }

    /// SF now knows `route` (acceptTime, acceptAddress, remark, opCode) for `waybill`, whose member's
    /// phone ends in `phone_tail`.
    pub fn add_route(&self, waybill: &str, phone_tail: &str, route: Value) {
        let mut st = self.state.lock().expect("state");
        let entry = st.routes.entry(waybill.to_string()).or_insert_with(|| (phone_tail.to_string(), Vec::new()));
        entry.1.push(route);
    }

    /// SF down (every call answers A1009) or back.
    pub fn set_down(&self, down: bool) {
        self.state.lock().expect("state").down = down;
    }
}

impl Drop for SfMock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn respond(mut stream: TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

fn handle(stream: TcpStream, state: &Mutex<State>, port: u16) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("");

    if method == "GET" && path.starts_with("/download/") {
        let id = &path["/download/".len()..];
        let st = state.lock().expect("state");
        return match st.downloads.get(id) {
            Some((token, pdf)) if headers.get("x-auth-token") == Some(token) => {
                respond(stream, "200 OK", "application/pdf", pdf)
            }
            Some(_) => respond(stream, "401 Unauthorized", "text/plain", b"bad token"),
            None => respond(stream, "404 Not Found", "text/plain", b"no such file"),
        };
    }
    if method != "POST" || path != "/std/service" {
        return respond(stream, "404 Not Found", "text/plain", b"not found");
    }
    if !headers.get("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        return respond(stream, "415 Unsupported Media Type", "text/plain", b"form expected");
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let fields: Vec<(String, String)> = text
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect();
    let answer = {
        let mut st = state.lock().expect("state");
        st.received.push(Received { fields: fields.clone() });
        service(&mut st, &fields, port)
    };
    respond(stream, "200 OK", "application/json;charset=UTF-8", answer.to_string().as_bytes());
}

fn service(st: &mut State, fields: &[(String, String)], port: u16) -> Value {
    let get = |k: &str| fields.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone());
    let required = ["partnerID", "requestID", "serviceCode", "timestamp", "msgDigest", "msgData"];
    for k in required {
        if get(k).is_none_or(|v| v.is_empty()) {
            return envelope("A1001", &format!("必传参数不可为空: {k}"), None);
        }
    }
    let (partner, request_id, service, timestamp, digest, msg_data) = (
        get("partnerID").unwrap_or_default(),
        get("requestID").unwrap_or_default(),
        get("serviceCode").unwrap_or_default(),
        get("timestamp").unwrap_or_default(),
        get("msgDigest").unwrap_or_default(),
        get("msgData").unwrap_or_default(),
    );
    if partner != PARTNER_ID {
        return envelope("A1004", "无对应服务权限", None);
    }
    if st.down {
        return envelope("A1009", "服务不可用", None);
    }
    if !["EXP_RECE_CREATE_ORDER", "COM_RECE_CLOUD_PRINT_WAYBILLS", "EXP_RECE_SEARCH_ROUTES"].contains(&service.as_str())
    {
        return envelope("A1004", "无对应服务权限", None);
    }
    let expected = base64::engine::general_purpose::STANDARD
        .encode(Md5::digest(java_encode(&format!("{msg_data}{timestamp}{CHECK_WORD}")).as_bytes()));
    if digest != expected {
        return envelope("A1006", "数字签名无效", None);
    }
    let now = chrono::Utc::now().timestamp_millis();
    match timestamp.parse::<i64>() {
        Ok(ts) if (now - ts).abs() < 30 * 60 * 1000 => {}
        _ => return envelope("A1002", "请求时效已过期", None),
    }
    if st.request_ids.contains(&request_id) {
        return envelope("A1007", "重复请求", None);
    }
    st.request_ids.push(request_id);
    let Ok(msg) = serde_json::from_str::<Value>(&msg_data) else {
        return envelope(
            "A1000",
            "",
            Some(json!({"success": false, "errorCode": "1000", "errorMsg": "msgData 不是合法的 JSON"})),
        );
    };
    let data = match service.as_str() {
        "EXP_RECE_CREATE_ORDER" => create_order(st, &msg),
        "EXP_RECE_SEARCH_ROUTES" => search_routes(st, &msg),
        _ => cloud_print(st, &msg, port),
    };
    envelope("A1000", "", Some(data))
}

fn create_order(st: &mut State, msg: &Value) -> Value {
    let order_id = msg["orderId"].as_str().unwrap_or("").to_string();
    if order_id.is_empty() {
        return json!({"success": false, "errorCode": "1010", "errorMsg": "订单号不能为空"});
    }
    let contacts = msg["contactInfoList"].as_array().cloned().unwrap_or_default();
    let recipient = contacts.iter().find(|c| c["contactType"] == 2);
    let sender = contacts.iter().find(|c| c["contactType"] == 1);
    let address_of = |c: Option<&Value>| c.and_then(|c| c["address"].as_str()).unwrap_or("").to_string();
    if address_of(sender).is_empty() {
        return json!({"success": false, "errorCode": "1011", "errorMsg": "寄件方详细地址不能为空"});
    }
    if address_of(recipient).is_empty() {
        return json!({"success": false, "errorCode": "1014", "errorMsg": "到件方详细地址不能为空"});
    }
    let phone = recipient.and_then(|c| c["mobile"].as_str().or(c["tel"].as_str())).unwrap_or("");
    if phone.is_empty() {
        return json!({"success": false, "errorCode": "1015", "errorMsg": "到件方联系电话不能为空"});
    }
    let waybill = match st.orders.get(&order_id) {
        Some(w) => w.clone(),
        None => {
            let w = format!("SF{:013}", st.next_waybill);
            st.next_waybill += 1;
            st.orders.insert(order_id.clone(), w.clone());
            w
        }
    };
    json!({
        "success": true, "errorCode": "S0000", "errorMsg": null,
        "msgData": {
            "orderId": order_id,
            "originCode": "010", "destCode": "755",
            "filterResult": 2,
            "waybillNoInfoList": [{"waybillType": 1, "waybillNo": waybill}],
            "routeLabelInfo": [{"code": "1000", "message": null, "routeLabelData": {
                "waybillNo": waybill,
                "destRouteLabel": "755WE-571A",
                "twoDimensionCode": format!("MMM={{'k1':'755WE','k2':'021WT','k5':'{waybill}'}}"),
                "proName": "顺丰标快"
            }}]
        }
    })
}

fn cloud_print(st: &mut State, msg: &Value, port: u16) -> Value {
    let waybill = msg["documents"][0]["masterWaybillNo"].as_str().unwrap_or("").to_string();
    if !st.orders.values().any(|w| *w == waybill) {
        return json!({"success": false, "errorCode": "8016", "errorMessage": "运单号不存在"});
    }
    let id = format!("f{}", st.downloads.len() + 1);
    let token = format!("tok-{id}");
    st.downloads.insert(id.clone(), (token.clone(), SF_LABEL_PDF.to_vec()));
    json!({
        "success": true, "requestId": "r1", "errorCode": null, "errorMessage": null,
        "obj": {"templateCode": msg["templateCode"], "fileType": "pdf", "files": [{
            "url": format!("http://127.0.0.1:{port}/download/{id}"),
            "token": token, "waybillNo": waybill, "seqNo": 1, "areaNo": 1, "pageNo": 1
        }]}
    })
}

/// `EXP_RECE_SEARCH_ROUTES` by waybill: each waybill's routes when `checkPhoneNo` matches its phone's
/// last four digits (SF answers nothing for a waybill whose phone does not match), as SF's msgData
/// `{"routeResps":[{"mailNo","routes":[…]}]}`.
fn search_routes(st: &mut State, msg: &Value) -> Value {
    if msg["trackingType"] != "1" || msg["methodType"] != "1" {
        return json!({"success": false, "errorCode": "8018", "errorMsg": "trackingType/methodType 不支持"});
    }
    let Some(numbers) = msg["trackingNumber"].as_array().filter(|n| !n.is_empty()) else {
        return json!({"success": false, "errorCode": "8013", "errorMsg": "trackingNumber 不能为空"});
    };
    let check = msg["checkPhoneNo"].as_str().unwrap_or("");
    let resps: Vec<Value> = numbers
        .iter()
        .filter_map(Value::as_str)
        .map(|no| {
            let routes = match st.routes.get(no) {
                Some((tail, routes)) if tail == check => routes.clone(),
                _ => Vec::new(),
            };
            json!({"mailNo": no, "routes": routes})
        })
        .collect();
    json!({"success": true, "errorCode": "S0000", "errorMsg": null, "msgData": {"routeResps": resps}})
}
