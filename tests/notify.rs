//! Notices to the member: the outbox written with each change (one notice per event and channel, on
//! both databases), the worker's sending with leases and back-off, Aliyun SMS checked by a local
//! stand-in that verifies the request as Aliyun does, e-mail received by a real SMTP server on
//! loopback (Debian's aiosmtpd), opt-out, channels off, no personal data in any message, and
//! `keydesk notices --failed --json`.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::TimeDelta;
use hmac::{Hmac, Mac};
use keydesk::clock::Clock;
use keydesk::domain::notice::{Channel, NoticeEvent, NoticeKind, NoticeState};
use keydesk::domain::order::Change;
use keydesk::domain::{HoldReason, OrderNo};
use keydesk::outbound::notify::aliyun::AliyunSms;
use keydesk::outbound::notify::{NotifySettings, Secret, SendError, Senders, SmtpSecurity};
use keydesk::store::Store;

use crate::both_backends;
use crate::support::{actor, load_demo, TestDb};

const ORDER: &str = "0000261121000001";
const INBOUND: &str = "SF1402000000000";
const KEY_ID: &str = "LTAI5tTestKeyId";
const SECRET: &str = "test-secret/with+odd=chars";
const SIGN_NAME: &str = "阳光七采";

// ---------------------------------------------------------------------------------------------
// The Aliyun SendSms stand-in: checks what Aliyun checks, written from Aliyun's documentation
// independently of keydesk's client.

/// A message the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Accepted {
    phone: String,
    template: String,
    params: BTreeMap<String, String>,
}

struct SmsStandIn {
    url: String,
    accepted: Arc<Mutex<Vec<Accepted>>>,
    down: Arc<AtomicBool>,
    refused: Arc<Mutex<Vec<String>>>,
}

/// RFC 3986 encoding, as Aliyun's signature documentation gives it: URL-encode, then `+` → `%20`,
/// `*` → `%2A`, `%7E` → `~`.
fn aliyun_encode(s: &str) -> String {
    let form: String = url_form_encode(s);
    form.replace('+', "%20").replace('*', "%2A").replace("%7E", "~")
}

/// Java's URLEncoder (what Aliyun's own SDK starts from): keeps `A-Za-z0-9.-*_`, space → `+`.
fn url_form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => char::from(b).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The templates registered at the stand-in's "console": code → its variables.
fn registered_templates() -> BTreeMap<String, Vec<String>> {
    let t = NotifySettings::default().templates;
    NoticeKind::ALL.into_iter().map(|k| (t.get(k).sms_code.clone(), t.get(k).sms_params.clone())).collect()
}

impl SmsStandIn {
    fn start() -> SmsStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(false));
        let (acc, refs, dn) = (Arc::clone(&accepted), Arc::clone(&refused), Arc::clone(&down));
        std::thread::spawn(move || {
            let nonces = Mutex::new(HashSet::new());
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let form = read_form(&stream);
                let (status, body) = if dn.load(Ordering::SeqCst) {
                    (503, r#"{"Code":"ServiceUnavailable","Message":"The request has failed due to a temporary failure of the server."}"#.to_string())
                } else {
                    match form.and_then(|form| check(&form, &nonces)) {
                        Ok(a) => {
                            acc.lock().unwrap().push(a);
                            (
                                200,
                                r#"{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"F655A8D5"}"#
                                    .to_string(),
                            )
                        }
                        Err((code, message)) => {
                            refs.lock().unwrap().push(code.clone());
                            (400, serde_json::json!({"Code": code, "Message": message}).to_string())
                        }
                    }
                };
                respond(stream, status, &body);
            }
        });
        SmsStandIn { url, accepted, down, refused }
    }

    fn accepted(&self) -> Vec<Accepted> {
        self.accepted.lock().unwrap().clone()
    }
}

fn read_form(stream: &TcpStream) -> Result<BTreeMap<String, String>, (String, String)> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| ("BadRequest".to_string(), e.to_string()))?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| ("BadRequest".to_string(), e.to_string()))?;
    let body = String::from_utf8(body).map_err(|_| ("BadRequest".to_string(), "not UTF-8".to_string()))?;
    Ok(body
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect())
}

/// What Aliyun checks, in the order its documentation lists error codes.
fn check(form: &BTreeMap<String, String>, nonces: &Mutex<HashSet<String>>) -> Result<Accepted, (String, String)> {
    let err = |c: &str, m: &str| Err((c.to_string(), m.to_string()));
    for required in [
        "AccessKeyId",
        "Action",
        "Format",
        "PhoneNumbers",
        "SignName",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "TemplateCode",
        "Timestamp",
        "Version",
        "Signature",
    ] {
        if form.get(required).is_none_or(|v| v.is_empty()) {
            return err("MissingParameter", &format!("{required} is mandatory for this action."));
        }
    }
    if form["Action"] != "SendSms" || form["Version"] != "2017-05-25" {
        return err("InvalidAction.NotFound", "Specified api is not found");
    }
    if form["SignatureMethod"] != "HMAC-SHA1" || form["SignatureVersion"] != "1.0" {
        return err("InvalidSignatureMethod", "Specified signature method is not supported.");
    }
    if chrono::NaiveDateTime::parse_from_str(&form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").is_err() {
        return err("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.");
    }
    if form["AccessKeyId"] != KEY_ID {
        return err("InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    }
    let mut canonical: Vec<(String, String)> = form
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| (aliyun_encode(k), aliyun_encode(v)))
        .collect();
    canonical.sort();
    let query: Vec<String> = canonical.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let to_sign = format!("POST&{}&{}", aliyun_encode("/"), aliyun_encode(&query.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{SECRET}&").as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if form["Signature"] != expected {
        return err("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
    }
    if !nonces.lock().unwrap().insert(form["SignatureNonce"].clone()) {
        return err("SignatureNonceUsed", "Specified signature nonce was used already.");
    }
    if form["SignName"] != SIGN_NAME {
        return err("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法(不存在或被拉黑)");
    }
    let phone = &form["PhoneNumbers"];
    if phone.len() != 11 || !phone.bytes().all(|b| b.is_ascii_digit()) {
        return err("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号");
    }
    let templates = registered_templates();
    let Some(names) = templates.get(&form["TemplateCode"]) else {
        return err("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法(不存在或被拉黑)");
    };
    let params: BTreeMap<String, String> = match form.get("TemplateParam").map(|p| serde_json::from_str(p)) {
        Some(Ok(p)) => p,
        _ => return err("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值"),
    };
    let wanted: HashSet<&String> = names.iter().collect();
    if params.keys().collect::<HashSet<_>>() != wanted {
        return err("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量");
    }
    if params.values().any(|v| v.is_empty() || v.chars().count() > 35) {
        return err("isv.PARAM_LENGTH_LIMIT", "参数超出长度限制");
    }
    Ok(Accepted { phone: phone.clone(), template: form["TemplateCode"].clone(), params })
}

fn respond(mut stream: TcpStream, status: u16, body: &str) {
    let reason = if status == 200 { "OK" } else { "Error" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

// ---------------------------------------------------------------------------------------------
// aiosmtpd, Debian's python3-aiosmtpd, as a real SMTP server on loopback that stores what it gets.

const PYTHON: &str = "/usr/bin/python3";

struct Smtp {
    port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Smtp {
    fn start() -> Smtp {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let mut child = std::process::Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{PYTHON} cannot run ({e}): install python3-aiosmtpd (scripts/packages.sh)"));
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Smtp { port, dir, child };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not listen on 127.0.0.1:{port} (is python3-aiosmtpd installed? scripts/packages.sh)");
    }

    /// Every message received, read back by Python's own e-mail parser: subject, to and body decoded.
    fn messages(&self) -> Vec<serde_json::Value> {
        let new = self.dir.path().join("mail").join("new");
        let mut files: Vec<_> =
            std::fs::read_dir(&new).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|f| {
                let out = std::process::Command::new(PYTHON)
                    .args([
                        "-c",
                        "import email, json, sys\nfrom email import policy\n\
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)\n\
print(json.dumps({'subject': str(m['subject']), 'to': str(m['to']), 'from': str(m['from']), 'body': m.get_content()}))",
                    ])
                    .arg(f)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                serde_json::from_slice(&out.stdout).unwrap()
            })
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------

fn settings(sms: Option<&SmsStandIn>, smtp: Option<&Smtp>) -> NotifySettings {
    let mut s = NotifySettings { member_page_url: "https://keydesk.example.cn/m/".into(), ..NotifySettings::default() };
    if let Some(sms) = sms {
        s.sms.enabled = true;
        s.sms.endpoint = sms.url.clone();
        s.sms.access_key_id = KEY_ID.into();
        s.sms.access_key_secret = Secret::new(SECRET);
        s.sms.sign_name = SIGN_NAME.into();
    }
    if let Some(smtp) = smtp {
        s.email.enabled = true;
        s.email.host = "127.0.0.1".into();
        s.email.port = smtp.port;
        s.email.security = SmtpSecurity::None;
        s.email.from = "阳光七采续签服务台 <notice@keydesk.test>".into();
    }
    s.validate().unwrap();
    s
}

fn senders(settings: &NotifySettings) -> Arc<Senders> {
    Arc::new(Senders::from_settings(settings))
}

/// A pinned clock at the tests' instant, moved by hand.
fn pinned() -> Clock {
    Clock::fixed(crate::support::now())
}

/// Receives the demo order's parcel (its `received` notices are written with the receipt).
async fn receive(store: &dyn Store, clock: &Clock) -> i64 {
    let outcome = keydesk::ops::intake::intake(store, INBOUND, &actor("qin"), clock).await.unwrap();
    assert_eq!(outcome.orders.len(), 1, "{}", outcome.message);
    order_id(store).await
}

async fn order_id(store: &dyn Store) -> i64 {
    store.order_by_no(&OrderNo::parse(ORDER).unwrap()).await.unwrap().unwrap().id
}

both_backends!(a_change_writes_one_notice_per_channel_and_an_event_written_twice_adds_none, async |db: &TestDb| {
    load_demo(db).await;
    let store = db.store.as_ref();
    let clock = pinned();
    assert!(store.notices(false, 100).await.unwrap().is_empty(), "importing announces nothing");
    let id = receive(store, &clock).await;
    let notices = store.notices_for_order(id).await.unwrap();
    let kinds: Vec<_> = notices.iter().map(|n| (n.kind, n.channel, n.state)).collect();
    assert_eq!(
        kinds,
        vec![
            (NoticeKind::Received, Channel::Sms, NoticeState::Pending),
            (NoticeKind::Received, Channel::Email, NoticeState::Pending)
        ]
    );
    // The same scan again is already_received: no second notice.
    keydesk::ops::intake::intake(store, INBOUND, &actor("qin"), &clock).await.unwrap();
    // The received event written twice (as a caller outside the store might): nothing new.
    assert_eq!(store.enqueue_notice(id, &NoticeEvent::once(NoticeKind::Received), clock.now()).await.unwrap(), 0);
    // Delivered comes from the courier routes: enqueued directly, twice; one per channel.
    assert_eq!(store.enqueue_notice(id, &NoticeEvent::once(NoticeKind::Delivered), clock.now()).await.unwrap(), 2);
    assert_eq!(store.enqueue_notice(id, &NoticeEvent::once(NoticeKind::Delivered), clock.now()).await.unwrap(), 0);
    // A hold the member must act on is announced with its reason; each hold is an event of its own.
    let no = OrderNo::parse(ORDER).unwrap();
    let hold = Change::Hold { reason: HoldReason::WrongKey, resume_to: None };
    keydesk::ops::change::change_order(store, &no, &hold, "", &actor("qin"), &clock).await.unwrap();
    clock.advance(TimeDelta::minutes(5));
    keydesk::ops::change::change_order(store, &no, &Change::Release, "客服已联系", &actor("qin"), &clock)
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(5));
    let internal = Change::Hold { reason: HoldReason::RenewalFailed, resume_to: None };
    keydesk::ops::change::change_order(store, &no, &internal, "", &actor("qin"), &clock).await.unwrap();
    let notices = store.notices_for_order(id).await.unwrap();
    let holds: Vec<_> = notices.iter().filter(|n| n.kind == NoticeKind::OnHold).collect();
    assert_eq!(holds.len(), 2, "one wrong-key hold, two channels; a failed renewal is the desk's own: {notices:#?}");
    assert!(holds.iter().all(|n| n.hold_reason == Some(HoldReason::WrongKey)));
    assert_eq!(notices.len(), 6);
});

both_backends!(a_notice_rolls_back_with_the_change_it_announces, async |db: &TestDb| {
    load_demo(db).await;
    let store = db.store.as_ref();
    let clock = pinned();
    let order = store.order_by_no(&OrderNo::parse(ORDER).unwrap()).await.unwrap().unwrap();
    // A hold planned on an older version is refused as a conflict: neither the change nor its notice.
    let transition = order.plan(&Change::Hold { reason: HoldReason::PinLocked, resume_to: None }, "").unwrap();
    let stale = keydesk::store::PlannedChange {
        order_id: order.id,
        order_no: order.order_no.clone(),
        expected_version: order.version - 1,
        transition,
        stamps: Default::default(),
        action: keydesk::domain::AuditAction::Hold,
    };
    assert!(store.apply_change(&stale, &actor("qin"), clock.now()).await.is_err());
    assert!(store.notices_for_order(order.id).await.unwrap().is_empty());
});

both_backends!(sms_and_email_go_out_once_even_with_two_workers, async |db: &TestDb| {
    load_demo(db).await;
    let store = db.store.as_ref();
    let clock = pinned();
    let (sms, smtp) = (SmsStandIn::start(), Smtp::start());
    let senders = senders(&settings(Some(&sms), Some(&smtp)));
    let id = receive(store, &clock).await;
    store.enqueue_notice(id, &NoticeEvent::once(NoticeKind::Renewed), clock.now()).await.unwrap();
    let (a, b) = tokio::join!(
        keydesk::ops::notify::run_due(store, &senders, &clock),
        keydesk::ops::notify::run_due(store, &senders, &clock)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 4, "{a:?} {b:?}");
    // Nothing is due any more: a third pass sends nothing.
    clock.advance(TimeDelta::hours(2));
    assert_eq!(keydesk::ops::notify::run_due(store, &senders, &clock).await.unwrap().sent, 0);
    let accepted = sms.accepted();
    assert_eq!(accepted.len(), 2, "{accepted:?}");
    assert_eq!(accepted[0].phone, "15909346015");
    let codes: HashSet<_> = accepted.iter().map(|a| a.template.clone()).collect();
    assert_eq!(codes, HashSet::from(["SMS_000000001".to_string(), "SMS_000000003".to_string()]));
    let received = accepted.iter().find(|a| a.template == "SMS_000000001").unwrap();
    assert_eq!(received.params, BTreeMap::from([("order_no".to_string(), ORDER.to_string())]));
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "{mails:?}");
    let mail = mails.iter().find(|m| m["subject"].as_str().unwrap().starts_with("已收到")).unwrap();
    assert_eq!(mail["subject"], format!("已收到您寄回的 KEY（订单 {ORDER}）"));
    assert_eq!(mail["to"], "caiwu00@example.cn");
    assert!(mail["from"].as_str().unwrap().contains("notice@keydesk.test"));
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains("两个工作日内完成续签") && body.contains("https://keydesk.example.cn/m/"), "{body}");
    let notices = store.notices_for_order(id).await.unwrap();
    assert!(notices.iter().all(|n| n.state == NoticeState::Sent && n.attempts == 1), "{notices:#?}");
    let sms_notice = notices.iter().find(|n| n.channel == Channel::Sms).unwrap();
    assert_eq!(sms_notice.provider_message_id.as_deref(), Some("900619746936498440^0"));
});

both_backends!(provider_down_for_an_hour_loses_nothing_and_sends_nothing_twice, async |db: &TestDb| {
    load_demo(db).await;
    let store = db.store.as_ref();
    let clock = pinned();
    let sms = SmsStandIn::start();
    let senders = senders(&settings(Some(&sms), None));
    let id = receive(store, &clock).await;
    store.enqueue_notice(id, &NoticeEvent::once(NoticeKind::Renewed), clock.now()).await.unwrap();
    sms.down.store(true, Ordering::SeqCst);
    let start = clock.now();
    let mut passes = 0;
    while clock.now() - start < TimeDelta::hours(1) {
        let run = keydesk::ops::notify::run_due(store, &senders, &clock).await.unwrap();
        assert_eq!(run.sent, 0);
        assert!(run.failed.is_empty(), "nothing is given up while the provider is down: {run:?}");
        clock.advance(TimeDelta::seconds(30));
        passes += 1;
    }
    assert!(sms.accepted().is_empty());
    let waiting = store.notices_for_order(id).await.unwrap();
    let sms_waiting: Vec<_> = waiting.iter().filter(|n| n.channel == Channel::Sms).collect();
    assert!(sms_waiting.iter().all(|n| n.state == NoticeState::Pending && n.attempts >= 5), "{sms_waiting:#?}");
    assert!(sms_waiting[0].last_error.as_deref().unwrap().contains("ServiceUnavailable"));
    assert!(passes > 100);
    // E-mail is off: its notices were skipped with the reason, not left waiting.
    assert!(waiting
        .iter()
        .filter(|n| n.channel == Channel::Email)
        .all(|n| n.state == NoticeState::Skipped && n.last_error.as_deref() == Some("渠道未开启")));
    sms.down.store(false, Ordering::SeqCst);
    for _ in 0..70 {
        keydesk::ops::notify::run_due(store, &senders, &clock).await.unwrap();
        clock.advance(TimeDelta::minutes(1));
    }
    assert_eq!(sms.accepted().len(), 2, "both sent once after the provider came back");
    assert!(store
        .notices_for_order(id)
        .await
        .unwrap()
        .iter()
        .filter(|n| n.channel == Channel::Sms)
        .all(|n| n.state == NoticeState::Sent));
});

#[test]
fn the_stand_in_verifies_the_signature_and_refuses_a_wrong_secret() {
    let sms = SmsStandIn::start();
    let s = settings(Some(&sms), None);
    let now = crate::support::now();
    let params = serde_json::json!({"order_no": ORDER});
    let good = AliyunSms::new(&s.sms).send("15909346015", "SMS_000000001", &params, now).unwrap();
    assert_eq!(good, "900619746936498440^0");
    let mut wrong = s.sms.clone();
    wrong.access_key_secret = Secret::new("not-the-secret");
    let err = AliyunSms::new(&wrong).send("15909346015", "SMS_000000001", &params, now).unwrap_err();
    assert!(matches!(&err, SendError::Permanent(m) if m.contains("SignatureDoesNotMatch")), "{err:?}");
    // A wrong signature name, an unknown template and missing parameters are refused as Aliyun does.
    let mut other_sign = s.sms.clone();
    other_sign.sign_name = "别的签名".into();
    let err = AliyunSms::new(&other_sign).send("15909346015", "SMS_000000001", &params, now).unwrap_err();
    assert!(matches!(&err, SendError::Permanent(m) if m.contains("isv.SMS_SIGNATURE_ILLEGAL")), "{err:?}");
    let client = AliyunSms::new(&s.sms);
    let err = client.send("15909346015", "SMS_999", &params, now).unwrap_err();
    assert!(matches!(&err, SendError::Permanent(m) if m.contains("isv.SMS_TEMPLATE_ILLEGAL")), "{err:?}");
    let err = client.send("15909346015", "SMS_000000004", &params, now).unwrap_err();
    assert!(matches!(&err, SendError::Permanent(m) if m.contains("isv.TEMPLATE_MISSING_PARAMETERS")), "{err:?}");
    assert_eq!(sms.accepted().len(), 1);
    assert_eq!(sms.refused.lock().unwrap().len(), 4);
    sms.down.store(true, Ordering::SeqCst);
    let err = client.send("15909346015", "SMS_000000001", &params, now).unwrap_err();
    assert!(matches!(err, SendError::Retryable(_)), "{err:?}");
}

both_backends!(an_opt_out_and_a_channel_off_are_honoured, async |db: &TestDb| {
    load_demo(db).await;
    let store = db.store.as_ref();
    let clock = pinned();
    let (sms, smtp) = (SmsStandIn::start(), Smtp::start());
    let id = receive(store, &clock).await;
    // The member opts out of e-mail on the page (the same use case the page's 退订 button calls).
    let no = OrderNo::parse(ORDER).unwrap();
    let tail = keydesk::ops::member::PhoneTail::parse("6015").unwrap();
    keydesk::ops::member::opt_out(store, &no, &tail, Channel::Email, &clock).await.unwrap();
    keydesk::ops::member::opt_out(store, &no, &tail, Channel::Email, &clock).await.unwrap();
    assert_eq!(store.opt_outs(id).await.unwrap(), vec![Channel::Email]);
    let wrong_tail = keydesk::ops::member::PhoneTail::parse("0000").unwrap();
    assert!(keydesk::ops::member::opt_out(store, &no, &wrong_tail, Channel::Sms, &clock).await.is_err());
    let run = keydesk::ops::notify::run_due(store, &senders(&settings(Some(&sms), Some(&smtp))), &clock).await.unwrap();
    assert_eq!((run.sent, run.skipped), (1, 1));
    assert!(smtp.messages().is_empty(), "the member opted out of e-mail");
    assert_eq!(sms.accepted().len(), 1);
    let email = store.notices_for_order(id).await.unwrap().into_iter().find(|n| n.channel == Channel::Email).unwrap();
    assert_eq!((email.state, email.last_error.as_deref()), (NoticeState::Skipped, Some("会员已退订")));
    // SMS off: the next event's SMS is skipped and nothing reaches the provider.
    store.enqueue_notice(id, &NoticeEvent::once(NoticeKind::Delivered), clock.now()).await.unwrap();
    let run = keydesk::ops::notify::run_due(store, &senders(&settings(None, Some(&smtp))), &clock).await.unwrap();
    assert_eq!((run.sent, run.skipped), (0, 2));
    assert_eq!(sms.accepted().len(), 1);
    // The member page shows the notices on the order's timeline.
    let shown = store.member_notices(id).await.unwrap();
    assert_eq!(shown.len(), 4);
    assert_eq!(shown.iter().filter(|n| n.state == NoticeState::Sent).count(), 1);
});

#[tokio::test]
async fn no_message_carries_personal_data() {
    let order: keydesk::domain::Order = {
        let all: Vec<serde_json::Value> = serde_json::from_str(&crate::support::demo_json()).unwrap();
        let text = serde_json::to_string(&vec![all[0].clone()]).unwrap();
        keydesk::ops::import::parse_export(&text, crate::support::now()).unwrap().remove(0)
    };
    let secrets = [
        order.holder_name.clone(),
        order.contact_phone.clone(),
        order.handler.name.clone(),
        order.handler.phone.clone(),
        order.handler.id_number.clone(),
        order.ship_to.name.clone(),
        order.ship_to.phone.clone(),
        order.ship_to.address.clone(),
        order.invoice.address.clone(),
        order.invoice.bank_account.clone(),
        order.invoice.phone.clone(),
        "915337".to_string(), // a PIN that is nowhere in the order
    ];
    let settings = NotifySettings::default();
    let mut order = order;
    order.outbound_waybill = Some(keydesk::domain::Waybill::parse("SF1234567890123").unwrap());
    for kind in NoticeKind::ALL {
        for reason in HoldReason::ALL {
            let notice = keydesk::store::NoticeRecord {
                id: 1,
                order_id: order.id,
                order_no: order.order_no.to_string(),
                kind,
                occurrence: String::new(),
                channel: Channel::Sms,
                hold_reason: Some(reason),
                created_at: crate::support::now(),
                state: NoticeState::Pending,
                attempts: 0,
                next_attempt_at: crate::support::now(),
                last_error: None,
                sent_at: None,
                provider_message_id: None,
            };
            let facts =
                keydesk::ops::notify::facts(&order, &notice, Some("26110000000000000001"), &settings.member_page_url);
            let composed = keydesk::ops::notify::compose(settings.templates.get(kind), &facts);
            for text in composed.texts() {
                for secret in &secrets {
                    assert!(!text.contains(secret.as_str()), "{kind} carries {secret:?}: {text}");
                }
                // Nor the last four digits alone beyond the order itself, nor any 11-digit run.
                assert!(!text.contains("6015"), "{kind}: {text}");
            }
            assert!(composed.body.contains(ORDER), "{kind}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_failed_json_lists_what_was_given_up() {
    let db = TestDb::sqlite().await;
    load_demo(&db).await;
    let store = db.store.as_ref();
    let clock = pinned();
    let sms = SmsStandIn::start();
    let id = receive(store, &clock).await;
    let mut bad = settings(Some(&sms), None);
    bad.sms.access_key_secret = Secret::new("a-wrong-secret-value");
    let run = keydesk::ops::notify::run_due(store, &senders(&bad), &clock).await.unwrap();
    assert_eq!(run.failed.len(), 1, "a refused signature is not retried: {run:?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keydesk"))
        .args(["notices", "--failed", "--json"])
        .env_remove("KEYDESK_CONFIG")
        .env("KEYDESK_DATABASE__URL", &db.url)
        .env("KEYDESK_NOTIFY__SMS__ACCESS_KEY_SECRET", "a-wrong-secret-value")
        .env("KEYDESK_LOG__DIR", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("a-wrong-secret-value"));
    let list: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(list.len(), 1, "{text}");
    assert_eq!(list[0]["order_no"], ORDER);
    assert_eq!(list[0]["order_id"], id);
    assert_eq!(list[0]["kind"], "received");
    assert_eq!(list[0]["channel"], "sms");
    assert_eq!(list[0]["state"], "failed");
    assert!(list[0]["last_error"].as_str().unwrap().contains("SignatureDoesNotMatch"));
    db.cleanup().await;
}

both_backends!(the_member_endpoint_reads_notices_and_records_an_opt_out_with_least_privilege, async |db: &TestDb| {
    load_demo(db).await;
    let clock = pinned();
    let id = receive(db.store.as_ref(), &clock).await;
    // The endpoint's own store: read-only connections on SQLite, role keydesk_member on PostgreSQL.
    let member =
        keydesk::store::open_member(&db.url, 2, std::time::Duration::from_secs(5), "keydesk_member").await.unwrap();
    let shown = member.member_notices(id).await.unwrap();
    let shown: HashSet<_> = shown.iter().map(|n| (n.kind, n.channel)).collect();
    assert_eq!(shown, HashSet::from([(NoticeKind::Received, Channel::Sms), (NoticeKind::Received, Channel::Email)]));
    let no = OrderNo::parse(ORDER).unwrap();
    let tail = keydesk::ops::member::PhoneTail::parse("6015").unwrap();
    keydesk::ops::member::opt_out(member.as_ref(), &no, &tail, Channel::Sms, &clock).await.unwrap();
    assert_eq!(member.opt_outs(id).await.unwrap(), vec![Channel::Sms]);
    assert_eq!(db.store.opt_outs(id).await.unwrap(), vec![Channel::Sms]);
    if db.url.starts_with("postgres") {
        // The member role reads only the columns it was granted: not the outbox's errors or ids.
        assert!(member.notices_for_order(id).await.is_err(), "the member role must not read whole notices");
    }
});

both_backends!(the_member_page_shows_the_notices_and_its_opt_out_button_works, async |db: &TestDb| {
    load_demo(db).await;
    let clock = pinned();
    let id = receive(db.store.as_ref(), &clock).await;
    let server = crate::member::start_endpoint(db, crate::member::generous()).await;
    let post = |form: String| async move {
        let headers = [("Content-Type", "application/x-www-form-urlencoded")];
        crate::member::request(server.addr, "POST", "/", &headers, form.as_bytes()).await
    };
    let page = post(format!("action=lookup&order_no={ORDER}&phone_tail=6015")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("<h2>通知</h2>") && html.contains("已收到 KEY"), "{html}");
    assert!(html.contains("name=\"action\" value=\"opt_out_sms\"") && html.contains("退订短信通知"), "{html}");
    let page = post(format!("action=opt_out_sms&order_no={ORDER}&phone_tail=6015")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("已退订本订单的短信通知") && html.contains("已退订短信通知"), "{html}");
    assert!(!html.contains("value=\"opt_out_sms\""), "{html}");
    assert_eq!(db.store.opt_outs(id).await.unwrap(), vec![Channel::Sms]);
    // A wrong tail opts out nothing.
    let refused = post(format!("action=opt_out_email&order_no={ORDER}&phone_tail=0000")).await;
    assert_eq!(refused.status, 404);
    assert_eq!(db.store.opt_outs(id).await.unwrap(), vec![Channel::Sms]);
    server.stop().await;
});

both_backends!(an_issued_invoice_is_announced_with_its_number_and_the_member_page, async |db: &TestDb| {
    load_demo(db).await;
    let store = db.store.as_ref();
    let clock = pinned();
    let (sms, smtp) = (SmsStandIn::start(), Smtp::start());
    let order = store.order_by_no(&OrderNo::parse(ORDER).unwrap()).await.unwrap().unwrap();
    let number = "26112000000000000042".to_string();
    let source = keydesk::store::InvoiceSource::Attach { number: number.clone(), pdf: b"%PDF-1.7 test".to_vec() };
    store.issue_invoice(order.id, &order.order_no, order.version, source, &actor("qin"), clock.now()).await.unwrap();
    let notices = store.notices_for_order(order.id).await.unwrap();
    assert_eq!(notices.iter().filter(|n| n.kind == NoticeKind::InvoiceIssued).count(), 2, "{notices:#?}");
    let run = keydesk::ops::notify::run_due(store, &senders(&settings(Some(&sms), Some(&smtp))), &clock).await.unwrap();
    assert_eq!(run.sent, 2, "{run:?}");
    let accepted = sms.accepted();
    assert_eq!(accepted[0].template, "SMS_000000005");
    assert_eq!(accepted[0].params.get("invoice_no"), Some(&number));
    let mail = &smtp.messages()[0];
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains(&number) && body.contains("https://keydesk.example.cn/m/"), "{body}");
});

/// Issue 14's parcel, end to end with the stand-ins, on a real SoftHSM key and SQLite: the scan
/// writes 已收到 (SMS to the Aliyun stand-in, mail to aiosmtpd), the renewal 已续签, the ship scan
/// 已寄回 with the waybill; SF pushes the pickup (the return clock stops there) and the delivery (the
/// member page says 已签收 and 请确认收货 goes out); nobody confirms, and `keydesk worker` completes the
/// order after `routes.auto_complete_days` under a pinned clock and says so. Every notice once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_parcel_end_to_end_with_the_stand_ins() {
    use keydesk::domain::route::format_accept_time;
    use keydesk::domain::Status;
    let lab = crate::token::KeyLab::new();
    let store = keydesk::store::open(&lab.db_url(), 4, std::time::Duration::from_secs(5), false).await.unwrap();
    let (sms, smtp) = (SmsStandIn::start(), Smtp::start());
    let config = keydesk::cli::config::Config { notify: settings(Some(&sms), Some(&smtp)), ..Default::default() };
    let clock = Clock::fixed(chrono::Utc::now());
    let services = crate::support::services(store.clone(), &config, clock.clone());
    let policy = keydesk::outbound::printer::RetryPolicy::default();
    let mut state = keydesk::worker::WorkerState::default();
    let no = OrderNo::parse(ORDER).unwrap();
    let id = order_id(store.as_ref()).await;
    let kinds_sent = |notices: &[keydesk::store::NoticeRecord], kind| {
        notices.iter().filter(|n| n.kind == kind && n.state == NoticeState::Sent).count()
    };

    // The scan (KeyLab received the parcel through `keydesk intake`): 已收到, by SMS and by mail.
    let pass = keydesk::worker::run_worker_pass(&services, &policy, &mut state).await.unwrap();
    assert_eq!(pass.notices.sent, 2, "{:?}", pass.notices);
    assert_eq!(smtp.messages().len(), 1);
    assert!(smtp.messages()[0]["subject"].as_str().unwrap().starts_with("已收到"));

    // The renewal on the key (`keydesk renew`, PIN on stdin), then the ship scan.
    lab.renew_ok();
    clock.advance(TimeDelta::minutes(10));
    keydesk::ops::ship::ship(store.as_ref(), &no, "SF7000000000017", &actor("qin"), &clock).await.unwrap();
    let shipped = store.order_by_no(&no).await.unwrap().unwrap().shipped_at.unwrap();
    keydesk::worker::run_worker_pass(&services, &policy, &mut state).await.unwrap();
    let notices = store.notices_for_order(id).await.unwrap();
    assert_eq!((kinds_sent(&notices, NoticeKind::Renewed), kinds_sent(&notices, NoticeKind::Shipped)), (2, 2));

    // SF: picked up 40 minutes after the scan, delivered the next morning.
    let routes = keydesk::route_push::RouteSettings {
        secret_path: keydesk::outbound::courier::Secret::new(crate::routes::SECRET_PATH),
        allow: vec!["127.0.0.1".into()],
        ..Default::default()
    };
    let receiver = keydesk::route_push::Receiver::new(
        &routes,
        keydesk::outbound::courier::Secret::new(crate::routes::CHECK_WORD),
        store.clone(),
        clock.clone(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(keydesk::route_push::serve(listener, Arc::new(receiver), std::future::pending()));
    let route = |id: &str, op: &str, at: chrono::DateTime<chrono::Utc>| {
        serde_json::json!({ "mailno": "SF7000000000017", "id": id, "opCode": op, "orderid": "",
            "acceptTime": format_accept_time(at), "acceptAddress": "北京市", "remark": "顺丰速运", "reasonCode": "" })
    };
    let picked_up = shipped + TimeDelta::minutes(40);
    let delivered = shipped + TimeDelta::hours(18);
    for (id, op, at) in [("e2e-50", "50", picked_up), ("e2e-80", "80", delivered)] {
        let (status, answer) = crate::routes::push(
            addr,
            crate::routes::SECRET_PATH,
            crate::routes::body(&[route(id, op, at)]),
            Some(crate::routes::CHECK_WORD),
        )
        .await;
        assert!(status == 200 && crate::routes::is_ok(&answer), "{status} {answer}");
    }
    clock.advance(TimeDelta::hours(20));
    let order = store.order_by_no(&no).await.unwrap().unwrap();
    assert_eq!(order.picked_up_at.map(|t| t.timestamp()), Some(picked_up.timestamp()));
    let scope = keydesk::store::ClockScope::StoppedBetween {
        from: shipped - TimeDelta::days(1),
        to: clock.now() + TimeDelta::days(1),
    };
    let facts = store.clock_facts(scope).await.unwrap();
    let stop = facts
        .iter()
        .filter(|f| f.order_no == ORDER)
        .flat_map(keydesk::ops::sla::clocks_of)
        .find(|c| c.clock.policy == keydesk::sla::Policy::Return)
        .and_then(|c| c.clock.stop);
    assert_eq!(stop.map(|t| t.timestamp()), Some(picked_up.timestamp()), "the return clock stops at the pickup");
    let tail = keydesk::ops::member::PhoneTail::parse("6015").unwrap();
    let member = keydesk::ops::member::look_up(store.as_ref(), &no, &tail).await.unwrap();
    assert_eq!(member.status_label(), "已签收");
    keydesk::worker::run_worker_pass(&services, &policy, &mut state).await.unwrap();
    assert_eq!(kinds_sent(&store.notices_for_order(id).await.unwrap(), NoticeKind::Delivered), 2);

    // Nobody confirms: seven days after the delivery the worker completes the order, and says so.
    clock.advance(TimeDelta::days(7));
    let pass = keydesk::worker::run_worker_pass(&services, &policy, &mut state).await.unwrap();
    assert_eq!(pass.auto_completed, std::slice::from_ref(&no));
    assert_eq!(store.order_by_no(&no).await.unwrap().unwrap().status, Status::Completed);
    let notices = store.notices_for_order(id).await.unwrap();
    assert_eq!(kinds_sent(&notices, NoticeKind::AutoCompleted), 2, "{notices:#?}");
    // Every notice went out once on each channel, and nothing is left to send.
    assert!(notices.iter().all(|n| n.state == NoticeState::Sent && n.attempts == 1), "{notices:#?}");
    assert_eq!(sms.accepted().len(), notices.iter().filter(|n| n.channel == Channel::Sms).count());
    assert_eq!(smtp.messages().len(), notices.iter().filter(|n| n.channel == Channel::Email).count());
    assert_eq!(keydesk::worker::run_worker_pass(&services, &policy, &mut state).await.unwrap().notices.sent, 0);
}
