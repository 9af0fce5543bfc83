//! `keydesk label`, `keydesk invoice`, `keydesk print`: documents wired to orders and the print queue.

use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use serde::Serialize;

use super::exit;
use super::{fail, print_json, Failure};
use crate::domain::{Order, OrderNo, PrintKind, PrintState};
use crate::ops::intake::local;
use crate::ops::print::{self, RunReport};
use crate::ops::{self, OpsError};
use crate::outbound::printer::RetryPolicy;
use crate::services::Services;
use crate::store::{Actor, InvoiceIssue, PrintJobRecord, Store};

async fn order(store: &dyn Store, order_no: &str) -> Result<Order, Failure> {
    let no = OrderNo::parse(order_no).map_err(|e| Failure { code: exit::REFUSED, message: e.to_string() })?;
    Ok(store.order_by_no(&no).await?.ok_or(OpsError::OrderNotFound(no.to_string()))?)
}

fn font(services: &Services) -> Result<std::sync::Arc<crate::docs::DocFont>, Failure> {
    services.font().map_err(fail)
}

/// Writes `bytes` to `path` atomically (a temporary file beside it, then rename).
fn write_pdf(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(format!("{}: {e}", path.display()))
    })
}

fn need_output(out: &Option<PathBuf>, print: bool) -> Result<(), Failure> {
    if out.is_none() && !print {
        return Err(Failure {
            code: exit::USAGE, message: "请用 --out FILE.pdf 写出文件，或用 --print 打印".into()
        });
    }
    Ok(())
}

/// What a print attempt right after queueing did to the job.
#[derive(Debug, Serialize)]
struct Printed {
    job: PrintJobRecord,
    outcome: Outcome,
}

/// The fate of a job after one pass of the queue (`printed`, `failed`, `queued` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Printed,
    Failed,
    Queued,
}

/// Runs the due jobs (the new one among them) and reports what became of `job_id`.
async fn print_now(services: &Services, job: PrintJobRecord) -> Result<(Printed, u8), Failure> {
    let report = print::run_due(services.store(), &services.printers, &RetryPolicy::default(), &services.clock).await?;
    let find = |list: &[PrintJobRecord]| list.iter().find(|j| j.id == job.id).cloned();
    Ok(if let Some(j) = find(&report.printed) {
        (Printed { job: j, outcome: Outcome::Printed }, exit::OK)
    } else if let Some(j) = find(&report.failed) {
        (Printed { job: j, outcome: Outcome::Failed }, exit::FAILURE)
    } else {
        let j = find(&report.retrying).unwrap_or(job);
        (Printed { job: j, outcome: Outcome::Queued }, exit::OK)
    })
}

fn say_printed(p: &Printed) {
    match p.outcome {
        Outcome::Printed => println!("已发送到打印机（任务 {}）", p.job.id),
        Outcome::Failed => println!("打印失败（任务 {}）：{}", p.job.id, p.job.last_error.as_deref().unwrap_or("-")),
        _ => println!(
            "打印机暂不可用，任务 {} 已排队，{} 重试（{}）；用 keydesk print retry 立即重试",
            p.job.id,
            local(p.job.next_attempt_at),
            p.job.last_error.as_deref().unwrap_or("尚未尝试")
        ),
    }
}

pub async fn label(
    services: &Services,
    actor: &Actor,
    order_no: &str,
    waybill: Option<&str>,
    out: Option<PathBuf>,
    print: bool,
    json: bool,
) -> Result<u8, Failure> {
    need_output(&out, print)?;
    let store = services.store();
    let order = order(store, order_no).await?;
    let font = font(services)?;
    let at = services.clock.now();
    let doc = ops::label::build_label(store, &font, &services.documents.label, &order, waybill, at).await?;
    if let Some(path) = &out {
        write_pdf(path, &doc.pdf)?;
    }
    let mut code = exit::OK;
    let mut printed = None;
    if print {
        let job = ops::label::enqueue_label(store, &order, &doc, actor, at).await?;
        let (p, c) = print_now(services, job).await?;
        code = c;
        printed = Some(p);
    }
    if json {
        print_json(&serde_json::json!({ "label": doc, "out": out, "print": printed }))?;
    } else {
        println!(
            "订单 {} 的{}面单，运单 {}{}",
            doc.order_no,
            if doc.reprint { "补打" } else { "" },
            doc.waybill,
            out.as_ref().map(|p| format!("，已写入 {}", p.display())).unwrap_or_default()
        );
        if let Some(p) = &printed {
            say_printed(p);
        }
    }
    Ok(code)
}

pub async fn invoice(
    services: &Services,
    actor: &Actor,
    order_no: &str,
    out: Option<PathBuf>,
    print: bool,
    json: bool,
) -> Result<u8, Failure> {
    need_output(&out, print)?;
    let store = services.store();
    let order = order(store, order_no).await?;
    let issue = ops::invoice::issued_or_issue(
        store,
        font(services)?.as_ref(),
        &services.documents.invoice,
        &order,
        actor,
        &services.clock,
    )
    .await?;
    let doc = issue.document();
    if let Some(path) = &out {
        write_pdf(path, &doc.pdf)?;
    }
    let mut code = exit::OK;
    let mut printed = None;
    if print {
        let job = ops::invoice::enqueue_invoice(store, &order, doc, actor, services.clock.now()).await?;
        let (p, c) = print_now(services, job).await?;
        code = c;
        printed = Some(p);
    }
    if json {
        print_json(&serde_json::json!({
            "order_no": order.order_no,
            "issued_now": matches!(issue, InvoiceIssue::New(_)),
            "number": doc.number,
            "sha256": doc.sha256,
            "issued_at": doc.issued_at,
            "out": out,
            "print": printed,
        }))?;
    } else {
        let what = if matches!(issue, InvoiceIssue::New(_)) { "已开具" } else { "此前已开具" };
        println!(
            "订单 {} 的发票{what}，号码 {}{}",
            order.order_no,
            doc.number,
            out.as_ref().map(|p| format!("，已写入 {}", p.display())).unwrap_or_default()
        );
        if let Some(p) = &printed {
            say_printed(p);
        }
    }
    Ok(code)
}

pub async fn attach(
    services: &Services,
    actor: &Actor,
    order_no: &str,
    file: &Path,
    number: &str,
    json: bool,
) -> Result<u8, Failure> {
    let (store, clock) = (services.store(), &services.clock);
    let order = order(store, order_no).await?;
    let pdf = std::fs::read(file).map_err(|e| fail(format!("{}: {e}", file.display())))?;
    let issue = ops::invoice::attach_invoice(store, &order, number, pdf, actor, clock).await?;
    let doc = issue.document();
    if json {
        print_json(&serde_json::json!({
            "order_no": order.order_no,
            "attached_now": matches!(issue, InvoiceIssue::New(_)),
            "number": doc.number,
            "sha256": doc.sha256,
        }))?;
    } else if matches!(issue, InvoiceIssue::New(_)) {
        println!("订单 {} 的发票 {} 已保存", order.order_no, doc.number);
    } else {
        println!("订单 {} 此前已保存发票 {}，未做更改", order.order_no, doc.number);
    }
    Ok(exit::OK)
}

fn job_line(j: &PrintJobRecord) -> String {
    format!(
        "#{}  {}  {}{}  {}  尝试 {} 次  {}{}",
        j.id,
        j.kind.label(),
        j.name,
        if j.reprint { "（补打）" } else { "" },
        j.state.label(),
        j.attempts,
        if j.state == PrintState::Queued {
            format!("下次 {}", local(j.next_attempt_at))
        } else {
            j.printed_at.map(local).unwrap_or_default()
        },
        j.last_error.as_deref().map(|e| format!("  {e}")).unwrap_or_default()
    )
}

pub async fn queue(services: &Services, json: bool) -> Result<u8, Failure> {
    let jobs = services.store().print_jobs(services.clock.now() - TimeDelta::hours(24)).await?;
    if json {
        print_json(&jobs)?;
    } else if jobs.is_empty() {
        println!("打印队列为空");
    } else {
        for j in &jobs {
            println!("{}", job_line(j));
        }
    }
    Ok(exit::OK)
}

pub async fn retry(services: &Services, json: bool) -> Result<u8, Failure> {
    let report: RunReport =
        print::run_due(services.store(), &services.printers, &RetryPolicy::default(), &services.clock).await?;
    if json {
        print_json(&report)?;
    } else {
        println!(
            "已打印 {} 个，等待重试 {} 个，失败 {} 个",
            report.printed.len(),
            report.retrying.len(),
            report.failed.len()
        );
        for j in report.retrying.iter().chain(&report.failed) {
            println!("  {}", job_line(j));
        }
    }
    Ok(if report.failed.is_empty() { exit::OK } else { exit::FAILURE })
}

pub async fn reprint(services: &Services, actor: &Actor, id: i64, json: bool) -> Result<u8, Failure> {
    let store = services.store();
    let original = store
        .print_job(id)
        .await?
        .ok_or_else(|| Failure { code: exit::REFUSED, message: format!("没有打印任务 {id}") })?;
    let at = services.clock.now();
    let job = if original.kind == PrintKind::Label {
        let order = store
            .order_by_id(original.order_id)
            .await?
            .ok_or(OpsError::OrderNotFound(format!("id {}", original.order_id)))?;
        let waybill = original.name.strip_prefix("label-").map(str::to_string);
        let doc = ops::label::build_label(
            store,
            font(services)?.as_ref(),
            &services.documents.label,
            &order,
            waybill.as_deref(),
            at,
        )
        .await?;
        ops::label::enqueue_label(store, &order, &doc, actor, at).await?
    } else {
        print::reprint(store, &original, actor, at).await?
    };
    let (p, code) = print_now(services, job).await?;
    if json {
        print_json(&p)?;
    } else {
        say_printed(&p);
    }
    Ok(code)
}
