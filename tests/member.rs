//! The member endpoint, served for real on a loopback port against SQLite and PostgreSQL: every route,
//! enumeration attempts, the failure limit, oversized and malformed requests, least privilege, and a
//! property test that no response ever carries a full phone number, ID number, bank account or street
//! address from the fixtures.

use std::net::SocketAddr;
use std::time::Duration;

use keydesk::domain::{AuditAction, Order, Status};
use keydesk::member::MemberSettings;
use keydesk::member::{self, App, Running};
use keydesk::store::{self, ListQuery, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_backends;
use crate::support::{load_demo, TestDb};

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The stable error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code: {}", self.text())).to_string()
    }
}

/// A tiny HTTP/1.1 client over a raw TCP connection (one request per connection).
pub async fn request(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end: {}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").expect("chunk size");
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..line_end]).trim(), 16).expect("chunk size hex");
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        body = out;
    }
    Reply { status, headers, body }
}

pub async fn get(addr: SocketAddr, target: &str) -> Reply {
    request(addr, "GET", target, &[], b"").await
}

pub async fn send_json(addr: SocketAddr, method: &str, target: &str, body: serde_json::Value) -> Reply {
    request(addr, method, target, &[("Content-Type", "application/json")], body.to_string().as_bytes()).await
}

pub async fn start_endpoint(db: &TestDb, settings: MemberSettings) -> Running {
    let store =
        store::open_member(&db.url, 4, Duration::from_secs(5), &settings.pg_role).await.expect("open member store");
    member::start(
        "127.0.0.1:0".parse().unwrap(),
        App::new(
            store,
            settings,
            keydesk::sla::ClockRules::load(&Default::default()).unwrap(),
            crate::support::clock(),
        ),
    )
    .await
    .expect("start endpoint")
}

pub fn generous() -> MemberSettings {
    MemberSettings { failures_per_order: 10_000, failures_per_client: 10_000, ..MemberSettings::default() }
}

async fn first_with_status(s: &dyn Store, status: Status) -> Order {
    s.list_orders(&ListQuery { status: Some(status), limit: 100, after_id: 0 })
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("fixture order")
}

fn wrong_tail(o: &Order) -> String {
    let t: u32 = o.phone_tail().parse().unwrap();
    format!("{:04}", (t + 1) % 10_000)
}

fn assert_security_headers(r: &Reply) {
    for h in
        ["content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy", "cache-control"]
    {
        assert!(r.header(h).is_some(), "missing {h} on {} {}", r.status, r.text());
    }
}

both_backends!(lookup_shows_status_timeline_and_masked_data_as_json_and_page, async |db: &TestDb| {
    load_demo(db).await;
    let o = first_with_status(db.store.as_ref(), Status::Shipped).await;
    let server = start_endpoint(db, MemberSettings::default()).await;
    let r = get(server.addr, &format!("/api/v1/orders/{}?phone_tail={}", o.order_no, o.phone_tail())).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_security_headers(&r);
    let v = r.json();
    assert_eq!(v["status"]["code"], "shipped");
    assert_eq!(v["status"]["label"], "待收货");
    assert_eq!(v["contact_phone"], keydesk::domain::mask::phone(&o.contact_phone));
    assert_eq!(v["holder"], keydesk::domain::mask::name(&o.holder_name));
    let steps: Vec<&str> = v["timeline"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["paid", "received", "renewing", "renewed", "shipped", "delivered", "completed"]);
    assert_eq!(v["timeline"][4]["waybill"], o.outbound_waybill.as_ref().unwrap().as_str());
    assert_eq!(v["outbound"]["waybill"], o.outbound_waybill.as_ref().unwrap().as_str());
    assert_eq!(v["promise"]["text"], "收到 KEY 后两个工作日内寄回");
    // Received Tue 2026-11-24 11:00 (demo data): promised by the close of the second working day after.
    assert_eq!(v["promise"]["due_at"], "2026-11-26T17:30:00+08:00");
    assert_eq!(v["promise"]["due_at_status"], "scheduled");
    assert_eq!(v["can_confirm_receipt"], true);
    assert_eq!(v["inbound"]["editable"], false);

    let page = get(server.addr, &format!("/?order_no={}&phone_tail={}", o.order_no, o.phone_tail())).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("待收货") && html.contains("确认收货") && html.contains("两个工作日"), "{html}");
    assert!(html.contains("最晚 <strong>2026-11-26 17:30（周四）</strong> 前寄回"), "the date the JSON has: {html}");
    assert!(!html.contains("即将"), "never a placeholder");
    assert!(!html.contains("<script"), "no JavaScript needed");
    let form = format!("action=lookup&order_no={}&phone_tail={}", o.order_no, o.phone_tail());
    let posted =
        request(server.addr, "POST", "/", &[("Content-Type", "application/x-www-form-urlencoded")], form.as_bytes())
            .await;
    assert_eq!(posted.status, 200);
    assert!(posted.text().contains("待收货"));
    let empty = get(server.addr, "/").await;
    assert_eq!(empty.status, 200);
    assert!(empty.text().contains("手机号后四位"));
    server.stop().await;
});

both_backends!(unknown_order_and_wrong_tail_get_the_same_answer, async |db: &TestDb| {
    load_demo(db).await;
    let o = first_with_status(db.store.as_ref(), Status::Paid).await;
    let server = start_endpoint(db, generous()).await;
    let wrong = get(server.addr, &format!("/api/v1/orders/{}?phone_tail={}", o.order_no, wrong_tail(&o))).await;
    let unknown = get(server.addr, "/api/v1/orders/0000200101999999?phone_tail=1234").await;
    assert_eq!((wrong.status, unknown.status), (404, 404));
    assert_eq!(wrong.body, unknown.body);
    let strip = |r: &Reply| r.headers.iter().filter(|(k, _)| k != "date").cloned().collect::<Vec<_>>();
    assert_eq!(strip(&wrong), strip(&unknown));
    assert_eq!(wrong.code(), "not_found");
    // The same on the page.
    let page = |no: String, tail: String| {
        let addr = server.addr;
        async move {
            let form = format!("action=lookup&order_no={no}&phone_tail={tail}");
            request(addr, "POST", "/", &[("Content-Type", "application/x-www-form-urlencoded")], form.as_bytes()).await
        }
    };
    let a = page(o.order_no.to_string(), wrong_tail(&o)).await;
    let b = page(o.order_no.to_string().replace(&o.order_no.to_string()[10..], "999999"), "1234".into()).await;
    assert_eq!((a.status, b.status), (404, 404));
    assert!(a.text().contains("data-code=\"not_found\"") && b.text().contains("data-code=\"not_found\""));
    // Timing: the same work on both paths (one lookup, one comparison); medians within a few ms.
    let mut t_wrong = Vec::new();
    let mut t_unknown = Vec::new();
    for i in 0..30 {
        let start = std::time::Instant::now();
        get(server.addr, &format!("/api/v1/orders/{}?phone_tail={}", o.order_no, wrong_tail(&o))).await;
        t_wrong.push(start.elapsed());
        let start = std::time::Instant::now();
        get(server.addr, &format!("/api/v1/orders/00002001019{:05}?phone_tail=1234", 90_000 + i)).await;
        t_unknown.push(start.elapsed());
    }
    t_wrong.sort();
    t_unknown.sort();
    let (a, b) = (t_wrong[15].as_secs_f64(), t_unknown[15].as_secs_f64());
    assert!((a - b).abs() < 0.005, "median wrong tail {a}s vs unknown order {b}s");
    server.stop().await;
});

both_backends!(failures_are_limited_per_order_number_and_per_client, async |db: &TestDb| {
    load_demo(db).await;
    let o = first_with_status(db.store.as_ref(), Status::Paid).await;
    let settings = MemberSettings { failures_per_order: 5, failures_per_client: 12, ..MemberSettings::default() };
    let server = start_endpoint(db, settings).await;
    let path = |tail: &str| format!("/api/v1/orders/{}?phone_tail={tail}", o.order_no);
    for _ in 0..5 {
        assert_eq!(get(server.addr, &path(&wrong_tail(&o))).await.status, 404);
    }
    let limited = get(server.addr, &path(&o.phone_tail())).await;
    assert_eq!(limited.status, 429, "even the right tail waits once the order number is limited");
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // An order number that does not exist is limited the same way.
    for _ in 0..5 {
        assert_eq!(get(server.addr, "/api/v1/orders/0000200101999998?phone_tail=1234").await.status, 404);
    }
    assert_eq!(get(server.addr, "/api/v1/orders/0000200101999998?phone_tail=1234").await.status, 429);
    // The client has now failed 10 times; two more (on fresh numbers), then it is limited everywhere.
    for no in ["0000200101999997", "0000200101999996"] {
        assert_eq!(get(server.addr, &format!("/api/v1/orders/{no}?phone_tail=1234")).await.status, 404);
    }
    let other = first_with_status(db.store.as_ref(), Status::Shipped).await;
    let r = get(server.addr, &format!("/api/v1/orders/{}?phone_tail={}", other.order_no, other.phone_tail())).await;
    assert_eq!(r.status, 429, "the client is past its limit");
    let metrics = get(server.addr, "/metrics").await.text();
    assert!(metrics.contains("keydesk_member_lookups_refused_total{reason=\"rate_limited\"}"), "{metrics}");
    assert!(metrics.contains("keydesk_member_lookups_refused_total{reason=\"not_found\"} 12"), "{metrics}");
    server.stop().await;
});

both_backends!(inbound_waybill_is_sf_only_before_receipt_and_audited, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let o = first_with_status(s, Status::Paid).await;
    let server = start_endpoint(db, MemberSettings::default()).await;
    let target = format!("/api/v1/orders/{}/inbound-waybill", o.order_no);
    let tail = o.phone_tail();
    let r = send_json(
        server.addr,
        "PUT",
        &target,
        serde_json::json!({ "phone_tail": tail, "waybill": " sf1402999999999 " }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["inbound"]["waybill"], "SF1402999999999");
    let after = s.order_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(after.inbound.waybill.as_deref(), Some("SF1402999999999"));
    assert_eq!(after.version, o.version + 1);
    let audit = s.audit_for_order(o.id).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!((last.action, last.operator.as_str()), (AuditAction::MemberInboundWaybill, "member"));
    assert!(last.desk.starts_with("member-web 127.0.0.1"), "{}", last.desk);
    // The desk's intake finds the order by the corrected waybill.
    assert_eq!(
        s.orders_by_inbound_waybill(&keydesk::domain::Waybill::parse("SF1402999999999").unwrap()).await.unwrap().len(),
        1
    );
    // The same again changes nothing.
    let r =
        send_json(server.addr, "PUT", &target, serde_json::json!({ "phone_tail": tail, "waybill": "SF1402999999999" }))
            .await;
    assert_eq!(r.status, 200);
    assert_eq!(s.audit_for_order(o.id).await.unwrap().len(), audit.len());
    let r =
        send_json(server.addr, "PUT", &target, serde_json::json!({ "phone_tail": tail, "waybill": "YT7345678901234" }))
            .await;
    assert_eq!((r.status, r.code()), (422, "not_sf".to_string()));
    let r = send_json(server.addr, "PUT", &target, serde_json::json!({ "phone_tail": tail, "waybill": "hello" })).await;
    assert_eq!((r.status, r.code()), (422, "invalid_waybill".to_string()));
    let r = send_json(
        server.addr,
        "PUT",
        &target,
        serde_json::json!({ "phone_tail": wrong_tail(&o), "waybill": "SF1402999999998" }),
    )
    .await;
    assert_eq!((r.status, r.code()), (404, "not_found".to_string()));
    // Once received, the waybill stays.
    let received = first_with_status(s, Status::Received).await;
    let r = send_json(
        server.addr,
        "PUT",
        &format!("/api/v1/orders/{}/inbound-waybill", received.order_no),
        serde_json::json!({ "phone_tail": received.phone_tail(), "waybill": "SF1402999999997" }),
    )
    .await;
    assert_eq!((r.status, r.code()), (409, "already_received".to_string()));
    // From the page, without JavaScript.
    let form = format!("action=inbound_waybill&order_no={}&phone_tail={tail}&waybill=SF1402999999996", o.order_no);
    let r =
        request(server.addr, "POST", "/", &[("Content-Type", "application/x-www-form-urlencoded")], form.as_bytes())
            .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("SF1402999999996") && r.text().contains("寄件运单已保存"));
    server.stop().await;
});

both_backends!(confirm_receipt_completes_a_shipped_order_once, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let o = first_with_status(s, Status::Shipped).await;
    let paid = first_with_status(s, Status::Paid).await;
    let server = start_endpoint(db, MemberSettings::default()).await;
    let target = format!("/api/v1/orders/{}/confirm-receipt", o.order_no);
    let r = send_json(server.addr, "POST", &target, serde_json::json!({ "phone_tail": o.phone_tail() })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"]["code"], "completed");
    assert_eq!(v["timeline"][5]["step"], "delivered");
    assert_eq!(v["timeline"][5]["done"], true, "a completed order passed its delivery");
    assert_eq!(v["timeline"][6]["done"], true);
    assert!(v["timeline"][6]["at"].is_string(), "the completion time comes from the audit log");
    assert_eq!(s.order_by_id(o.id).await.unwrap().unwrap().status, Status::Completed);
    let last = s.audit_for_order(o.id).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.action, last.from_status.as_deref(), last.to_status.as_deref()),
        (AuditAction::MemberConfirmReceipt, Some("shipped"), Some("completed"))
    );
    let again = send_json(server.addr, "POST", &target, serde_json::json!({ "phone_tail": o.phone_tail() })).await;
    assert_eq!((again.status, again.code()), (409, "already_completed".to_string()));
    let r = send_json(
        server.addr,
        "POST",
        &format!("/api/v1/orders/{}/confirm-receipt", paid.order_no),
        serde_json::json!({ "phone_tail": paid.phone_tail() }),
    )
    .await;
    assert_eq!((r.status, r.code()), (409, "not_shipped".to_string()));
    server.stop().await;
});

both_backends!(invoice_is_downloaded_once_issued, async |db: &TestDb| {
    load_demo(db).await;
    let o = first_with_status(db.store.as_ref(), Status::Completed).await;
    let server = start_endpoint(db, MemberSettings::default()).await;
    let target = format!("/api/v1/orders/{}/invoice.pdf?phone_tail={}", o.order_no, o.phone_tail());
    let r = get(server.addr, &target).await;
    assert_eq!((r.status, r.code()), (404, "invoice_not_issued".to_string()));
    let pdf = b"%PDF-1.7\n% keydesk test invoice\n%%EOF\n".to_vec();
    insert_invoice(db, o.id, "26112000000000000001", &pdf).await;
    let r = get(server.addr, &target).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r.header("content-disposition").unwrap().contains("fapiao-26112000000000000001.pdf"));
    assert_eq!(r.body, pdf);
    let v = get(server.addr, &format!("/api/v1/orders/{}?phone_tail={}", o.order_no, o.phone_tail())).await.json();
    assert_eq!(v["invoice"]["available"], true);
    assert_eq!(v["invoice"]["number"], "26112000000000000001");
    let wrong =
        get(server.addr, &format!("/api/v1/orders/{}/invoice.pdf?phone_tail={}", o.order_no, wrong_tail(&o))).await;
    assert_eq!((wrong.status, wrong.code()), (404, "not_found".to_string()));
    let form = format!("action=invoice&order_no={}&phone_tail={}", o.order_no, o.phone_tail());
    let r =
        request(server.addr, "POST", "/", &[("Content-Type", "application/x-www-form-urlencoded")], form.as_bytes())
            .await;
    assert_eq!((r.status, r.body.clone()), (200, pdf));
    server.stop().await;
});

async fn insert_invoice(db: &TestDb, order_id: i64, number: &str, pdf: &[u8]) {
    let sql = "INSERT INTO invoices (order_id, number, pdf, sha256, issued_at) VALUES ($1, $2, $3, $4, $5)";
    let at = crate::support::now();
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(sql).bind(order_id).bind(number).bind(pdf).bind("test").bind(at).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(sql).bind(order_id).bind(number).bind(pdf).bind("test").bind(at).execute(&pool).await.unwrap();
    }
}

both_backends!(oversized_malformed_and_unknown_requests_get_json_errors, async |db: &TestDb| {
    load_demo(db).await;
    let o = first_with_status(db.store.as_ref(), Status::Paid).await;
    let server = start_endpoint(db, generous()).await;
    let a = server.addr;
    let put = format!("/api/v1/orders/{}/inbound-waybill", o.order_no);
    let big = format!("{{\"phone_tail\":\"{}\",\"waybill\":\"{}\"}}", o.phone_tail(), "9".repeat(10_000));
    let cases: Vec<(Reply, u16, &str)> = vec![
        (
            request(a, "PUT", &put, &[("Content-Type", "application/json")], big.as_bytes()).await,
            413,
            "payload_too_large",
        ),
        (
            request(a, "PUT", &put, &[("Content-Type", "application/json")], b"{\"phone_tail\":").await,
            400,
            "invalid_json",
        ),
        (request(a, "PUT", &put, &[("Content-Type", "application/json")], b"[1,2,3]").await, 400, "invalid_json"),
        (
            request(a, "PUT", &put, &[("Content-Type", "text/plain")], b"SF1402999999999").await,
            415,
            "unsupported_media_type",
        ),
        (get(a, "/api/v1/orders/12345?phone_tail=1234").await, 400, "invalid_order_no"),
        (get(a, "/api/v1/orders/%FF%FE?phone_tail=1234").await, 400, "invalid_order_no"),
        (get(a, &format!("/api/v1/orders/{}", o.order_no)).await, 400, "invalid_phone_tail"),
        (get(a, &format!("/api/v1/orders/{}?phone_tail=12a4", o.order_no)).await, 400, "invalid_phone_tail"),
        (get(a, &format!("/api/v1/orders/{}?phone_tail=%ZZ", o.order_no)).await, 400, "invalid_phone_tail"),
        (get(a, &format!("/api/v1/orders/{}?x={}", o.order_no, "a".repeat(5000))).await, 414, "uri_too_long"),
        (get(a, "/wp-login.php").await, 404, "route_not_found"),
        (get(a, "/api/v1/orders/0000261121000001/../../etc/passwd").await, 404, "route_not_found"),
        (request(a, "DELETE", &format!("/api/v1/orders/{}", o.order_no), &[], b"").await, 405, "method_not_allowed"),
        (request(a, "POST", "/", &[("Content-Type", "application/json")], b"{}").await, 400, ""),
    ];
    for (r, status, code) in cases {
        assert_eq!(r.status, status, "{code}: {}", r.text());
        assert_security_headers(&r);
        if code.is_empty() {
            continue;
        }
        assert_eq!(r.code(), code, "{}", r.text());
        let text = r.text();
        for leak in ["sqlx", "panicked", "error returned from database", "Failed to", "axum", "hyper"] {
            assert!(!text.contains(leak), "internal text {leak:?} reached a member: {text}");
        }
    }
    // Headers larger than the connection buffer are refused before any handler runs (431, or the
    // connection is reset before the answer can be read).
    let mut stream = tokio::net::TcpStream::connect(a).await.unwrap();
    let head = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: {}\r\n\r\n", "j".repeat(20 * 1024));
    let _ = stream.write_all(head.as_bytes()).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(raw.is_empty() || text.starts_with("HTTP/1.1 431"), "{text}");
    server.stop().await;
});

both_backends!(health_metrics_and_openapi_answer, async |db: &TestDb| {
    let server = start_endpoint(db, MemberSettings::default()).await;
    let h = get(server.addr, "/healthz").await;
    assert_eq!((h.status, h.json()["status"].as_str()), (200, Some("ok")));
    let doc = get(server.addr, "/api/v1/openapi.json").await;
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/orders/{order_no}",
        "/api/v1/orders/{order_no}/inbound-waybill",
        "/api/v1/orders/{order_no}/invoice.pdf",
        "/api/v1/orders/{order_no}/confirm-receipt",
        "/healthz",
        "/metrics",
        "/api/v1/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    let m = get(server.addr, "/metrics").await;
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    let text = m.text();
    assert!(text.contains("keydesk_member_requests_total{route=\"/healthz\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("keydesk_member_request_duration_seconds_bucket{route=\"/api/v1/openapi.json\""), "{text}");
    assert!(text.contains("# TYPE keydesk_member_lookups_refused_total counter"));
    server.stop().await;
});

both_backends!(the_member_connection_can_do_member_actions_only, async |db: &TestDb| {
    load_demo(db).await;
    let member = store::open_member(&db.url, 2, Duration::from_secs(5), "keydesk_member").await.unwrap();
    let o = first_with_status(db.store.as_ref(), Status::Paid).await;
    assert!(member.member_order(&o.order_no).await.unwrap().is_some());
    let demo = keydesk::ops::import::parse_export(&crate::support::demo_json(), crate::support::clock().now()).unwrap();
    let denied = member.import_orders(&demo[..1], &crate::support::actor("x"), crate::support::now()).await;
    assert!(denied.is_err(), "the member connection must not write orders");
    assert!(member.add_operator("mallory", "x", crate::support::now()).await.is_err());
    if db.url.starts_with("postgres") {
        // The role reads the view, never the table with ID numbers and addresses.
        assert!(member.order_by_no(&o.order_no).await.is_err(), "keydesk_member must not read orders");
        assert!(member.receipts_for_order(o.id).await.is_err());
        assert!(member.audit_for_order(o.id).await.is_err());
    }
});

/// Fixture values that must never leave the endpoint.
fn secrets(orders: &[Order]) -> Vec<String> {
    let mut out = Vec::new();
    for o in orders {
        out.push(o.contact_phone.clone());
        out.push(o.handler.phone.clone());
        out.push(o.ship_to.phone.clone());
        out.push(o.handler.id_number.clone());
        out.push(o.ship_to.address.clone());
        out.push(o.holder_name.clone());
        if !o.invoice.bank_account.is_empty() {
            out.push(o.invoice.bank_account.clone());
        }
    }
    out.retain(|s| s.chars().count() >= 3);
    out.sort();
    out.dedup();
    out
}

fn no_leaks_on(make_db: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = TestDb>>>) {
    use proptest::prelude::*;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (db, server, orders) = rt.block_on(async {
        let db = make_db().await;
        load_demo(&db).await;
        let orders = db.store.list_orders(&ListQuery { status: None, limit: 1000, after_id: 0 }).await.unwrap();
        let server = start_endpoint(&db, generous()).await;
        (db, server, orders)
    });
    let secrets = secrets(&orders);
    let addr = server.addr;
    let n = orders.len();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 96, ..ProptestConfig::default() });
    let strategy = (0..n, 0usize..8, any::<bool>(), "[0-9A-Za-z%/._ -]{0,24}");
    runner
        .run(&strategy, |(i, route, right_tail, noise)| {
            let o = &orders[i];
            let tail = if right_tail { o.phone_tail() } else { noise.chars().take(4).collect() };
            let no = o.order_no.to_string();
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
                    .collect::<String>()
            };
            let reply = rt.block_on(async {
                match route {
                    0 => get(addr, &format!("/api/v1/orders/{no}?phone_tail={}", enc(&tail))).await,
                    1 => get(addr, &format!("/?order_no={no}&phone_tail={}", enc(&tail))).await,
                    2 => get(addr, &format!("/api/v1/orders/{no}/invoice.pdf?phone_tail={}", enc(&tail))).await,
                    3 => {
                        send_json(
                            addr,
                            "PUT",
                            &format!("/api/v1/orders/{no}/inbound-waybill"),
                            serde_json::json!({ "phone_tail": tail, "waybill": noise }),
                        )
                        .await
                    }
                    4 => {
                        send_json(
                            addr,
                            "POST",
                            &format!("/api/v1/orders/{no}/confirm-receipt"),
                            serde_json::json!({ "phone_tail": tail }),
                        )
                        .await
                    }
                    5 => get(addr, &format!("/api/v1/orders/{}?phone_tail={}", enc(&noise), enc(&tail))).await,
                    6 => {
                        let form = format!(
                            "action=inbound_waybill&order_no={no}&phone_tail={}&waybill={}",
                            enc(&tail),
                            enc(&noise)
                        );
                        request(
                            addr,
                            "POST",
                            "/",
                            &[("Content-Type", "application/x-www-form-urlencoded")],
                            form.as_bytes(),
                        )
                        .await
                    }
                    _ => get(addr, "/metrics").await,
                }
            });
            let text = String::from_utf8_lossy(&reply.body);
            for s in &secrets {
                prop_assert!(!text.contains(s.as_str()), "route {} leaked {:?}: {}", route, s, text);
            }
            Ok(())
        })
        .unwrap();
    rt.block_on(async {
        server.stop().await;
        db.cleanup().await;
    });
}

#[test]
fn no_response_ever_leaks_personal_data_sqlite() {
    no_leaks_on(|| Box::pin(TestDb::sqlite()));
}

#[test]
fn no_response_ever_leaks_personal_data_postgres() {
    no_leaks_on(|| Box::pin(TestDb::postgres()));
}

// The timeline's renewing time is stamped on the order by the audit log's trigger (migration 0006):
// the member sees it as soon as the desk moves the order, and a second move keeps the latest time.
both_backends!(the_timeline_follows_the_desks_moves, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let o = first_with_status(s, Status::Received).await;
    let server = start_endpoint(db, MemberSettings::default()).await;
    let path = format!("/api/v1/orders/{}?phone_tail={}", o.order_no, o.phone_tail());
    let before = get(server.addr, &path).await.json();
    assert_eq!(before["timeline"][2]["done"], false);
    assert!(before["timeline"][2]["at"].is_null());

    let change = keydesk::domain::order::Change::MoveTo(Status::Renewing);
    keydesk::ops::change::change_order(
        s,
        &o.order_no,
        &change,
        "开始续签",
        &crate::support::actor("qin"),
        &crate::support::clock(),
    )
    .await
    .unwrap();
    let moved = s.audit_for_order(o.id).await.unwrap().pop().unwrap();
    assert_eq!(moved.to_status.as_deref(), Some("renewing"));
    let after = get(server.addr, &path).await.json();
    assert_eq!(after["status"]["code"], "renewing");
    assert_eq!(after["timeline"][2]["done"], true);
    let at = chrono::DateTime::parse_from_rfc3339(after["timeline"][2]["at"].as_str().unwrap()).unwrap();
    assert_eq!(at.with_timezone(&chrono::Utc).timestamp_micros(), moved.at.timestamp_micros());
    server.stop().await;
});

// The endpoint keeps its lookup connections between requests; when the database drops them (a
// restart), the next lookup opens a new one instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_survive_the_database_dropping_their_connections() {
    use sqlx::Connection;
    let db = TestDb::postgres().await;
    load_demo(&db).await;
    let o = first_with_status(db.store.as_ref(), Status::Shipped).await;
    let server = start_endpoint(&db, MemberSettings::default()).await;
    let path = format!("/api/v1/orders/{}?phone_tail={}", o.order_no, o.phone_tail());
    assert_eq!(get(server.addr, &path).await.status, 200);
    let name = db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let mut admin = sqlx::PgConnection::connect(&crate::support::pg_admin_url()).await.unwrap();
    let dropped: Vec<bool> =
        sqlx::query_scalar("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&name)
            .fetch_all(&mut admin)
            .await
            .unwrap();
    assert!(!dropped.is_empty(), "the endpoint's connections were there to drop");
    let again = get(server.addr, &path).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["order_no"], o.order_no.as_str());
    server.stop().await;
    db.cleanup().await;
}

/// The OpenAPI document's patterns are the server's checks: over every embedded date of both order
/// number shapes (real and impossible ones), the pattern admits a number exactly when the server
/// parses it; likewise phone tails and waybills on samples of every kind the server refuses.
#[test]
fn the_openapi_patterns_admit_exactly_what_the_server_accepts() {
    let doc: serde_json::Value = serde_json::from_str(&keydesk::member::openapi::DOCUMENT).unwrap();
    let pattern = |pointer: &str| {
        regex::Regex::new(
            doc.pointer(pointer).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("no pattern at {pointer}")),
        )
        .unwrap()
    };
    let order_no = pattern("/paths/~1api~1v1~1orders~1{order_no}/get/parameters/0/schema/pattern");
    for yy in 0..100 {
        for mm in 0..=13 {
            for dd in 0..=32 {
                for candidate in
                    [format!("0000{yy:02}{mm:02}{dd:02}000004"), format!("ZFS00000{yy:02}{mm:02}{dd:02}00004")]
                {
                    assert_eq!(
                        order_no.is_match(&candidate),
                        keydesk::domain::OrderNo::parse(&candidate).is_ok(),
                        "{candidate}"
                    );
                }
            }
        }
    }
    for refused in [
        "0000000000000000",
        "000026112100001",
        "00002611210000011",
        "1000261121000001",
        "ZFS000002611210001",
        "ZFS1000026112100001",
        "",
    ] {
        assert!(!order_no.is_match(refused) && keydesk::domain::OrderNo::parse(refused).is_err(), "{refused}");
    }

    let body = "/paths/~1api~1v1~1orders~1{order_no}~1inbound-waybill/put/requestBody/content/application~1json/schema/properties";
    let tail = pattern(&format!("{body}/phone_tail/pattern"));
    let query_tail = pattern("/paths/~1api~1v1~1orders~1{order_no}/get/parameters/1/schema/pattern");
    let confirm_tail = pattern("/paths/~1api~1v1~1orders~1{order_no}~1confirm-receipt/post/requestBody/content/application~1json/schema/properties/phone_tail/pattern");
    for candidate in ["6015", "0000", "", "601", "60150", "60a5", "6 015", "６０１５"] {
        let accepted = keydesk::ops::member::PhoneTail::parse(candidate).is_ok();
        for p in [&tail, &query_tail, &confirm_tail] {
            assert!(!p.is_match(candidate) || accepted, "the schema admits {candidate:?}, which the server refuses");
        }
    }
    let waybill = pattern(&format!("{body}/waybill/pattern"));
    for candidate in [
        "SF1234567890123",
        "123456789012",
        "SF123456789012",
        "YT1234567890123",
        "JD0001234567890",
        "sf1234567890123",
        "",
        "SF12345678901234",
    ] {
        if waybill.is_match(candidate) {
            assert!(
                keydesk::domain::Waybill::parse(candidate).is_ok(),
                "the schema admits {candidate:?}, which the server refuses"
            );
        }
    }
    assert!(waybill.is_match("SF1234567890123") && tail.is_match("6015"));
}
