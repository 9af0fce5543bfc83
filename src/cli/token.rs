//! The command-line faces of the key work: `reader watch` (events as they happen, and each inserted
//! key identified and matched to its order), `token show` (token info, PIN flags, public objects) and
//! `renew ORDER` (the journaled renewal, printing each step with its time). Each is a thin shell over
//! `reader`, the token worker and `ops::renew`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use zeroize::Zeroizing;

use super::exit;
use super::{print_json, Failure, RenewArgs};
use crate::ca::x509;
use crate::domain::OrderNo;
use crate::ops::identify::{identify, orders_for_key, IdentifiedKey};
use crate::ops::renew::{self, RenewContext, RenewResult, StepReport};
use crate::services::Services;
use crate::store::Actor;
use crate::token::pkcs11::{TokenError, TokenReport};
use crate::token::reader::{self, ReaderEvent};
use crate::token::worker::{TokenWorker, WorkerError};

#[derive(Serialize)]
struct Timed<'a, T: Serialize> {
    at: chrono::DateTime<chrono::Utc>,
    #[serde(flatten)]
    event: &'a T,
}

#[derive(Serialize)]
#[serde(tag = "event", rename = "identified")]
struct IdentifiedEvent {
    reader: String,
    /// From the moment pcscd reported the card to screen-ready data.
    elapsed_ms: f64,
    keys: Vec<IdentifiedKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn emit_line<T: Serialize>(json: bool, event: &T, text: &str, clock: &crate::clock::Clock) {
    let mut out = std::io::stdout().lock();
    if json {
        let line = serde_json::to_string(&Timed { at: clock.now(), event }).unwrap_or_default();
        let _ = writeln!(out, "{line}");
    } else {
        let _ = writeln!(out, "{}  {text}", clock.now_local().format("%H:%M:%S%.3f"));
    }
    let _ = out.flush();
}

/// `keydesk reader watch`: runs until interrupted.
pub async fn reader_watch(services: &Services, json: bool, identify_keys: bool) -> Result<(), Failure> {
    let clock = &services.clock;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, ReaderEvent)>();
    let stop = Arc::new(AtomicBool::new(false));
    let settings = services.token.settings.clone();
    let thread_stop = stop.clone();
    let watcher = std::thread::spawn(move || {
        reader::watch(&settings, Duration::from_secs(1), &thread_stop, &mut |e| {
            let _ = tx.send((Instant::now(), e));
        })
    });
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            next = rx.recv() => {
                let Some((seen, event)) = next else { break };
                emit_line(json, &event, &event.describe(), clock);
                if let (true, ReaderEvent::CardInserted { reader, module, .. }) = (identify_keys, &event) {
                    let result = identify(services.store(), &services.token.worker, module, services.token.worker_timeout(), reader).await;
                    let elapsed_ms = seen.elapsed().as_secs_f64() * 1e3;
                    let (keys, error) = match result {
                        Ok(k) => (k, None),
                        Err(e) => (Vec::new(), Some(e)),
                    };
                    let text = match (&error, keys.as_slice()) {
                        (Some(e), _) => format!("识别失败：{e}"),
                        (None, []) => "模块中没有 KEY".into(),
                        (None, keys) => keys
                            .iter()
                            .map(|k| format!(
                                "KEY {} → 订单 {} {} {} {}  ({elapsed_ms:.0} ms)",
                                k.serial,
                                k.order_no.as_deref().unwrap_or("（无订单）"),
                                k.company.as_deref().unwrap_or(""),
                                k.status_label.unwrap_or(""),
                                if k.certificate_matches { "证书相符" } else { "证书不符" },
                            ))
                            .collect::<Vec<_>>()
                            .join("；"),
                    };
                    emit_line(json, &IdentifiedEvent { reader: reader.clone(), elapsed_ms, keys, error }, &text, clock);
                }
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = tokio::task::spawn_blocking(move || watcher.join()).await;
    Ok(())
}

#[derive(Serialize)]
struct TokenView {
    #[serde(flatten)]
    report: TokenReport,
    certificates: Vec<x509::CertFacts>,
    orders: Vec<String>,
}

/// `keydesk token show`: no PIN, public objects only.
pub async fn token_show(
    services: &Services,
    serial: Option<&str>,
    module: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let module = services.token.module(module);
    let token_err = |e: WorkerError| Failure { code: exit::RENEW_TOKEN, message: e.to_string() };
    let mut worker = TokenWorker::spawn(&services.token.worker, &module, services.token.worker_timeout())
        .await
        .map_err(token_err)?;
    let tokens = worker.tokens().await.map_err(token_err)?;
    let serials: Vec<String> = match serial {
        Some(s) if tokens.iter().any(|t| crate::domain::KeySerial::new(&t.serial).is(s)) => vec![s.to_string()],
        Some(s) => {
            let present: Vec<String> = tokens.iter().map(|t| t.serial.clone()).collect();
            return Err(token_err(WorkerError::Token(TokenError::NotPresent {
                serial: s.into(),
                present: if present.is_empty() { "无".into() } else { present.join(", ") },
            })));
        }
        None => tokens.iter().map(|t| t.serial.clone()).collect(),
    };
    let mut views = Vec::new();
    for s in serials {
        let report = worker.inspect(&s).await.map_err(token_err)?;
        let certificates = report
            .objects
            .iter()
            .filter_map(|o| {
                o.value.as_deref().and_then(|v| hex::decode(v).ok()).and_then(|d| x509::parse_certificate(&d).ok())
            })
            .collect();
        let orders = orders_for_key(services.store(), &s)
            .await
            .map_err(Failure::from)?
            .into_iter()
            .map(|o| format!("{} {}", o.order_no, o.status.label()))
            .collect();
        views.push(TokenView { report, certificates, orders });
    }
    worker.close().await;
    if json {
        return print_json(&views);
    }
    if views.is_empty() {
        println!("模块 {module} 中没有 KEY");
    }
    for v in views {
        let t = &v.report.token;
        let pin = &t.pin;
        println!("KEY {}  标签 {}  {} {}  插槽 {}", t.serial, t.label, t.manufacturer, t.model, t.slot_description);
        println!(
            "  PIN：{}",
            if pin.locked {
                "已锁定"
            } else if pin.final_try {
                "最后一次尝试"
            } else if pin.count_low {
                "曾输错（次数偏少）"
            } else {
                "正常"
            }
        );
        println!("  订单：{}", if v.orders.is_empty() { "无".into() } else { v.orders.join("，") });
        for o in &v.report.objects {
            println!(
                "  {:<12} id={:<34} {}{}",
                o.class,
                o.id,
                o.label,
                o.application.as_deref().map(|a| format!("  ({a})")).unwrap_or_default()
            );
        }
        for c in &v.certificates {
            println!("  证书 {}  {}  {} 至 {}  签发者 {}", c.serial, c.subject, c.not_before, c.not_after, c.issuer);
        }
        println!("  （私有对象需登录后可见）");
    }
    Ok(())
}

/// Reads the PIN: the first line of stdin (`--pin-stdin`, or stdin not a terminal), else a masked prompt.
fn read_pin(from_stdin: bool) -> Result<Zeroizing<String>, String> {
    use std::io::BufRead;
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = Zeroizing::new(String::with_capacity(128));
        std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
        let keep = line.trim_end_matches(['\r', '\n']).len();
        line.truncate(keep);
        if line.is_empty() {
            return Err("stdin 中没有 PIN".into());
        }
        Ok(line)
    } else {
        rpassword::prompt_password("KEY 的 PIN：").map(Zeroizing::new).map_err(|e| e.to_string())
    }
}

fn print_step(s: &StepReport) {
    println!(
        "  ✓ {:<10} {:>8.1} ms  (KEY {:>7.1} ms, keydesk {:>6.1} ms)  {}",
        s.label, s.total_ms, s.token_ms, s.own_ms, s.note
    );
}

/// `keydesk renew ORDER`.
pub async fn renew(services: &Services, args: RenewArgs, actor: &Actor) -> Result<u8, Failure> {
    let no = OrderNo::parse(&args.order_no).map_err(|e| Failure { code: exit::REFUSED, message: e.to_string() })?;
    let store = services.store();
    let ctx = RenewContext::new(services, args.module.clone());
    let pin_stdin = args.pin_stdin;
    let mut pin_source = move || read_pin(pin_stdin);
    let json = args.json;
    let failure = |e: renew::RenewError| Failure { code: exit::of_renew(&e), message: e.with_advice() };
    if args.abandon {
        let reason = args.reason.as_deref().unwrap_or_default();
        let outcome = renew::abandon(store, &ctx, &no, reason, args.without_key, &mut pin_source, actor)
            .await
            .map_err(failure)?;
        if json {
            print_json(&outcome)?;
        } else {
            println!(
                "订单 {} 的续签任务 {} 已放弃，订单回到「已收件」：{}",
                outcome.order_no, outcome.job_id, outcome.key_cleanup
            );
            if let Some(c) = &outcome.unused_certificate {
                println!("  CA 已签发未使用的证书 {}（SHA-256 {}）已记录，请在 CA 处吊销", c.serial, c.fingerprint);
            }
        }
        return Ok(exit::OK);
    }
    if !json {
        println!("续签订单 {no}");
    }
    let mut on_step = move |s: &StepReport| {
        if !json {
            print_step(s);
        }
    };
    let outcome = renew::renew(store, &ctx, &no, &mut pin_source, actor, &mut on_step).await.map_err(failure)?;
    if json {
        print_json(&outcome)?;
    } else {
        match outcome.result {
            RenewResult::AlreadyRenewed => {
                println!("订单 {} 已续签过（任务 {}），未做任何改动", outcome.order_no, outcome.job_id)
            }
            RenewResult::Renewed => {
                let own: f64 = outcome.steps.iter().map(|s| s.own_ms).sum();
                let token: f64 = outcome.steps.iter().map(|s| s.token_ms).sum();
                println!(
                    "订单 {} 已续签{}：keydesk {own:.1} ms，KEY {token:.1} ms",
                    outcome.order_no,
                    if outcome.resumed { "（继续上次的任务）" } else { "" }
                );
            }
        }
        println!(
            "  旧证书 {}  {} 至 {}  SHA-256 {}",
            outcome.old.serial, outcome.old.not_before, outcome.old.not_after, outcome.old.fingerprint
        );
        println!(
            "  新证书 {}  {} 至 {}  SHA-256 {}",
            outcome.new.serial, outcome.new.not_before, outcome.new.not_after, outcome.new.fingerprint
        );
    }
    Ok(exit::OK)
}
