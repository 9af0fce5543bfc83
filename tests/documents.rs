//! Documents wired to orders and the database (issue 5): invoice issue and attach, the durable print
//! queue against a real IPP printer, and `keydesk label` end to end.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use crate::support::now;
use chrono::TimeDelta;
use keydesk::docs::InvoiceSettings;
use keydesk::domain::{AuditAction, InvoiceStatus, OrderNo, PrintKind, PrintState};
use keydesk::ops::print::run_due;
use keydesk::outbound::printer::Printers;
use keydesk::outbound::printer::{IppPrinter, Printer, RetryPolicy};
use keydesk::store::InvoiceIssue;

use crate::both_backends;
use crate::docs::support::{font, ippeve::IppEvePrinter, tools};
use crate::support::{actor, load_demo};

fn invoice_settings() -> InvoiceSettings {
    InvoiceSettings {
        seller_name: "北京阳光七采科技有限公司".into(),
        seller_tax_id: "91110108MA0000000X".into(),
        issuer_name: "秦经理".into(),
        ..InvoiceSettings::default()
    }
}

fn no(s: &str) -> OrderNo {
    OrderNo::parse(s).expect("order number")
}

both_backends!(invoice_is_issued_once_with_a_unique_number, async |db: &crate::support::TestDb| {
    let store = db.store.clone();
    {
        load_demo(db).await;
        let qin = actor("qin");
        let settings = invoice_settings();
        let first = store.order_by_no(&no("0000261121000001")).await.unwrap().unwrap();
        let issued = keydesk::ops::invoice::issue_invoice(
            store.as_ref(),
            font(),
            &settings,
            &first,
            &qin,
            &crate::support::clock(),
        )
        .await
        .expect("issue");
        let InvoiceIssue::New(doc) = issued else { panic!("expected a new invoice: {issued:?}") };
        assert_eq!(doc.number.len(), 20);
        assert!(doc.number.bytes().all(|b| b.is_ascii_digit()), "{}", doc.number);
        assert!(doc.pdf.starts_with(b"%PDF-"));

        // Issuing again (with the order as it is now, or as planned before) returns the same bytes.
        let reloaded = store.order_by_no(&no("0000261121000001")).await.unwrap().unwrap();
        assert_eq!(reloaded.invoice_status, InvoiceStatus::Issued);
        for order in [&reloaded, &first] {
            let again = keydesk::ops::invoice::issue_invoice(
                store.as_ref(),
                font(),
                &settings,
                order,
                &qin,
                &crate::support::clock(),
            )
            .await
            .expect("again");
            assert_eq!(again, InvoiceIssue::Existing(doc.clone()));
        }
        let audit = store.audit_for_order(first.id).await.unwrap();
        assert_eq!(audit.iter().filter(|a| a.action == AuditAction::InvoiceIssued).count(), 1, "{audit:?}");
        assert_eq!(store.invoice_document(first.id).await.unwrap(), Some(doc.clone()));
        let member = store.member_order(&first.order_no).await.unwrap().expect("member view");
        assert_eq!(member.invoice_number.as_deref(), Some(doc.number.as_str()));

        // The next order gets another number; numbers are never reused.
        let second = store.order_by_no(&no("0000261122000002")).await.unwrap().unwrap();
        let next = keydesk::ops::invoice::issue_invoice(
            store.as_ref(),
            font(),
            &settings,
            &second,
            &qin,
            &crate::support::clock(),
        )
        .await
        .expect("issue");
        assert_ne!(next.document().number, doc.number);
        assert!(next.document().number > doc.number);

        // Attach: 20 digits, and never a number already used.
        let third = store.order_by_no(&no("0000261123000003")).await.unwrap().unwrap();
        let pdf = doc.pdf.clone();
        assert!(keydesk::ops::invoice::attach_invoice(
            store.as_ref(),
            &third,
            "123",
            pdf.clone(),
            &qin,
            &crate::support::clock()
        )
        .await
        .is_err());
        let dup = keydesk::ops::invoice::attach_invoice(
            store.as_ref(),
            &third,
            &doc.number,
            pdf.clone(),
            &qin,
            &crate::support::clock(),
        )
        .await;
        assert!(dup.is_err(), "{dup:?}");
        let attached = keydesk::ops::invoice::attach_invoice(
            store.as_ref(),
            &third,
            "24110000000000009999",
            pdf.clone(),
            &qin,
            &crate::support::clock(),
        )
        .await
        .expect("attach");
        assert!(matches!(attached, InvoiceIssue::New(_)));
        let third_now = store.order_by_no(&no("0000261123000003")).await.unwrap().unwrap();
        assert_eq!(third_now.invoice_status, InvoiceStatus::Issued);
        let again = keydesk::ops::invoice::attach_invoice(
            store.as_ref(),
            &third_now,
            "24110000000000009999",
            pdf,
            &qin,
            &crate::support::clock(),
        )
        .await
        .expect("attach again");
        assert!(matches!(again, InvoiceIssue::Existing(_)));

        // A reprint is an explicit new job with the same bytes, flagged and audited.
        let job = keydesk::store::NewPrintJob {
            order_id: first.id,
            kind: PrintKind::Invoice,
            printer: PrintKind::Invoice.code().into(),
            name: format!("invoice-{}", doc.number),
            pdf: doc.pdf.clone(),
            media: None,
            reprint: false,
        };
        let original = keydesk::ops::print::enqueue(store.as_ref(), &job, &qin, now()).await.expect("enqueue");
        let copy = keydesk::ops::print::reprint(store.as_ref(), &original, &qin, now()).await.expect("reprint");
        assert!(copy.reprint && !original.reprint);
        assert_ne!(copy.id, original.id);
        assert_eq!(store.print_job(copy.id).await.unwrap().expect("job").pdf, doc.pdf);
        let audit = store.audit_for_order(first.id).await.unwrap();
        assert!(audit.iter().any(|a| a.action == AuditAction::PrintReprint), "{audit:?}");
    }
});

/// The programs a real IPP printer needs (see `docs::support::ippeve`).
fn ippeve_tools() -> bool {
    ["ippeveprinter", "dbus-daemon", "avahi-daemon", "unshare"].iter().all(|t| tools::require(t))
}

fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

fn label_printer(uri: &str) -> Printers {
    let printer: Arc<dyn Printer> = Arc::new(IppPrinter::new(uri, "", Duration::from_secs(5)));
    HashMap::from([("label".to_string(), printer)])
}

both_backends!(queued_label_waits_for_the_printer_then_prints, async |db: &crate::support::TestDb| {
    let store = db.store.clone();
    {
        if !ippeve_tools() {
            return;
        }
        load_demo(db).await;
        let qin = actor("qin");
        let order = store.order_by_no(&no("0000261121000001")).await.unwrap().unwrap();
        let t0 = now();
        let label = keydesk::ops::label::build_label(
            store.as_ref(),
            font(),
            &Default::default(),
            &order,
            Some("SF1234567890123"),
            t0,
        )
        .await
        .expect("label");
        assert!(!label.reprint);
        let job = keydesk::ops::label::enqueue_label(store.as_ref(), &order, &label, &qin, t0).await.expect("enqueue");
        assert_eq!((job.state, job.attempts), (PrintState::Queued, 0));

        // The printer is off: the job stays queued, with its attempt counted and a later retry time.
        let policy = RetryPolicy::default();
        let off = label_printer(&format!("ipp://127.0.0.1:{}/ipp/print", dead_port()));
        let report = run_due(store.as_ref(), &off, &policy, &crate::support::clock()).await.expect("run");
        assert_eq!((report.printed.len(), report.retrying.len(), report.failed.len()), (0, 1, 0));
        let waiting = &report.retrying[0];
        assert_eq!((waiting.state, waiting.attempts), (PrintState::Queued, 1));
        assert!(waiting.next_attempt_at > t0, "{waiting:?}");
        assert!(waiting.last_error.is_some());
        // Not due yet: nothing is sent.
        let report = run_due(store.as_ref(), &off, &policy, &crate::support::clock()).await.expect("run");
        assert!(report.printed.is_empty() && report.retrying.is_empty());

        // The printer is up: the job prints when it is due (ippeveprinter may answer busy first).
        let printer = IppEvePrinter::start();
        let on = label_printer(&printer.uri());
        let mut at = waiting.next_attempt_at;
        let mut done = None;
        for _ in 0..20 {
            let report = run_due(store.as_ref(), &on, &policy, &crate::support::clock()).await.expect("run");
            assert!(report.failed.is_empty(), "{report:?}\n{}", printer.log());
            if let Some(j) = report.printed.into_iter().next() {
                done = Some(j);
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            at += TimeDelta::minutes(10);
        }
        let done = done.unwrap_or_else(|| panic!("never printed\n{}", printer.log()));
        assert_eq!(done.state, PrintState::Done);
        assert!(done.printed_at.is_some());
        let spooled = printer.wait_for_document(Duration::from_secs(10));
        assert_eq!(spooled, label.pdf);

        // A label printed before makes the next one a reprint, audited.
        let again = keydesk::ops::label::build_label(
            store.as_ref(),
            font(),
            &Default::default(),
            &order,
            Some("SF1234567890123"),
            now(),
        )
        .await
        .expect("label");
        assert!(again.reprint);
        let reprint =
            keydesk::ops::label::enqueue_label(store.as_ref(), &order, &again, &qin, now()).await.expect("enqueue");
        assert!(reprint.reprint);
        let audit = store.audit_for_order(order.id).await.unwrap();
        assert!(audit.iter().any(|a| a.action == AuditAction::LabelReprint), "{audit:?}");
    }
});

#[test]
fn cli_label_writes_a_pdf_with_the_recipient_and_a_readable_barcode() {
    if !tools::require("pdftotext") || !tools::require("pdftoppm") || !tools::require("zbarimg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_keydesk"));
        c.args(args)
            .current_dir(dir.path())
            .env_remove("KEYDESK_CONFIG")
            .env_remove("KEYDESK_OPERATOR")
            .env("KEYDESK_DATABASE__URL", format!("sqlite://{}", dir.path().join("k.db").display()))
            .env("KEYDESK_LOG__DIR", dir.path().join("logs"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo-orders.json");
    run(&["import", "orders", fixtures], None);
    run(&["operator", "add", "qin", "--password-stdin"], Some("2468\n"));
    let out = dir.path().join("label.pdf");
    let out_s = out.to_string_lossy().to_string();
    let printed = run(
        &["--operator", "qin", "label", "0000261121000001", "--waybill", "SF1234567890123", "--out", &out_s, "--json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(v["label"]["waybill"], "SF1234567890123");
    let text = tools::pdftotext(&out);
    for part in ["秦晓明", "15909346015", "丰台路18号"] {
        assert!(text.contains(part), "{part} missing from\n{text}");
    }
    let png = tools::rasterise_mono(&out, 203);
    assert_eq!(tools::zbar(&png, "code128"), vec!["SF1234567890123".to_string()]);

    // Without a waybill on the order or on the command line, no label (and no waybill is invented).
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_keydesk"));
    let status = c
        .args(["--operator", "qin", "label", "0000261122000002", "--out", &out_s])
        .current_dir(dir.path())
        .env_remove("KEYDESK_CONFIG")
        .env("KEYDESK_DATABASE__URL", format!("sqlite://{}", dir.path().join("k.db").display()))
        .env("KEYDESK_LOG__DIR", dir.path().join("logs"))
        .output()
        .unwrap();
    assert!(!status.status.success());
}

both_backends!(
    concurrent_issues_share_one_invoice_per_order_and_never_a_number,
    async |db: &crate::support::TestDb| {
        load_demo(db).await;
        let settings = Arc::new(invoice_settings());
        let nos = ["0000261121000001", "0000261122000002", "0000261123000003", "0000261124000004"];
        let mut tasks = Vec::new();
        for round in 0..2 {
            for n in nos {
                let store = db.store.clone();
                let settings = settings.clone();
                tasks.push(tokio::spawn(async move {
                    let order = store.order_by_no(&no(n)).await.unwrap().unwrap();
                    let qin = actor(&format!("desk{round}"));
                    keydesk::ops::invoice::issue_invoice(
                        store.as_ref(),
                        font(),
                        &settings,
                        &order,
                        &qin,
                        &crate::support::clock(),
                    )
                    .await
                    .map(|i| (n, i.document().clone()))
                }));
            }
        }
        let mut by_order: HashMap<&str, Vec<keydesk::store::InvoiceDocument>> = HashMap::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok((n, doc)) => by_order.entry(n).or_default().push(doc),
                // A desk that planned on a version another desk changed meanwhile is told so; nothing written.
                Err(keydesk::ops::OpsError::Store(keydesk::store::StoreError::Conflict { .. })) => {}
                Err(e) => panic!("{e}"),
            }
        }
        let mut numbers = Vec::new();
        for n in nos {
            let order = db.store.order_by_no(&no(n)).await.unwrap().unwrap();
            let stored = db.store.invoice_document(order.id).await.unwrap().expect("issued");
            for doc in by_order.get(n).into_iter().flatten() {
                assert_eq!(*doc, stored);
            }
            let audit = db.store.audit_for_order(order.id).await.unwrap();
            assert_eq!(audit.iter().filter(|a| a.action == AuditAction::InvoiceIssued).count(), 1);
            numbers.push(stored.number);
        }
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), nos.len());
    }
);

// With `courier.backend = "sf"`, shipping without a scanned waybill books the return with SF (here the
// local mock that checks SF's signature), records the waybill and SF's routing data once, and the label
// carries the route code.
both_backends!(
    shipping_books_the_return_with_sf_and_the_label_carries_the_route,
    async |db: &crate::support::TestDb| {
        use crate::docs::support::sf_mock::{self, SfMock};
        use keydesk::outbound::courier::{CourierBackend, Secret};
        load_demo(db).await;
        let s = db.store.as_ref();
        let mock = SfMock::start();
        let mut config = keydesk::cli::config::Config::default();
        config.courier.backend = CourierBackend::Sf;
        config.courier.sf_base_url = mock.url();
        config.courier.partner_id = sf_mock::PARTNER_ID.to_string();
        config.courier.check_word = Secret::new(sf_mock::CHECK_WORD);
        config.courier.monthly_account = "0101234567".to_string();
        config.courier.timeout_secs = 5;
        let renewed = s
            .list_orders(&keydesk::store::ListQuery {
                status: Some(keydesk::domain::Status::Renewed),
                limit: 1,
                after_id: 0,
            })
            .await
            .unwrap()
            .remove(0);
        let services = crate::support::services(db.store.clone(), &config, crate::support::clock());
        let shipped =
            keydesk::ops::book::ship_with_courier(&services, &renewed.order_no, None, &actor("qin")).await.unwrap();
        let keydesk::ops::ship::Shipped::Now(order) = shipped else { panic!("shipped now") };
        assert_eq!(order.outbound_waybill.as_ref().map(|w| w.as_str()), Some("SF1234567890123"));
        assert_eq!(mock.received().len(), 1, "one call to SF");
        let route = keydesk::ops::book::route_of(s, order.id).await.unwrap().expect("routing data");
        assert_eq!(route.dest_route_label, "755WE-571A");
        // Booking again (a re-run) asks SF nothing and keeps the waybill.
        let again = keydesk::ops::book::book_return(&services, &order, &actor("qin")).await.unwrap();
        assert_eq!(again, keydesk::ops::book::Booked::Waybill(order.outbound_waybill.clone().unwrap()));
        assert_eq!(mock.received().len(), 1);
        let label = keydesk::ops::label::build_label(s, font(), &config.label, &order, None, crate::support::now())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("label.pdf");
        std::fs::write(&pdf, &label.pdf).unwrap();
        assert!(tools::pdftotext(&pdf).contains("755WE-571A"), "the route code is on the label");
        assert!(s.audit_for_order(order.id).await.unwrap().iter().any(|a| a.action == AuditAction::Book));

        // The manual backend cannot book: it asks for the scanned waybill and writes nothing.
        let other = s
            .list_orders(&keydesk::store::ListQuery {
                status: Some(keydesk::domain::Status::Renewed),
                limit: 1,
                after_id: order.id,
            })
            .await
            .unwrap()
            .remove(0);
        let manual = keydesk::cli::config::Config::default();
        let manual = crate::support::services(db.store.clone(), &manual, crate::support::clock());
        let err =
            keydesk::ops::book::ship_with_courier(&manual, &other.order_no, None, &actor("qin")).await.unwrap_err();
        assert!(err.to_string().contains("请扫描"), "{err}");
        assert_eq!(s.order_by_id(other.id).await.unwrap().unwrap().version, other.version);
    }
);

// `keydesk worker`: documents queued while the printer was off go out on the worker's pass, and two
// workers running at once never send one job twice (each job is leased before it is sent).
#[test]
fn the_worker_prints_what_waited_and_two_workers_never_print_a_job_twice() {
    let dir = tempfile::tempdir().unwrap();
    let off = format!("ipp://127.0.0.1:{}/ipp/print", crate::docs::support::ippeve::free_port());
    let printed_dir = dir.path().join("printed");
    let command = |args: &[&str], printer_on: bool, now: Option<String>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_keydesk"));
        c.args(args)
            .current_dir(dir.path())
            .env_remove("KEYDESK_CONFIG")
            .env_remove("KEYDESK_OPERATOR")
            .env_remove("KEYDESK_NOW")
            .env("KEYDESK_DATABASE__URL", format!("sqlite://{}", dir.path().join("k.db").display()))
            .env("KEYDESK_LOG__DIR", dir.path().join("logs"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if printer_on {
            c.env("KEYDESK_PRINTER__LABEL__BACKEND", "file").env("KEYDESK_PRINTER__LABEL__DIR", &printed_dir);
        } else {
            c.env("KEYDESK_PRINTER__LABEL__BACKEND", "ipp").env("KEYDESK_PRINTER__LABEL__URI", &off);
        }
        if let Some(now) = now {
            c.env("KEYDESK_NOW", now);
        }
        c
    };
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = command(args, false, None).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo-orders.json");
    run(&["import", "orders", fixtures], "");
    run(&["operator", "add", "qin", "--password-stdin"], "2468\n");
    // The label printer is off: each label (the first, then reprints) waits in the queue.
    const JOBS: usize = 6;
    for _ in 0..JOBS {
        let out = run(
            &["--operator", "qin", "label", "0000261121000001", "--waybill", "SF1234567890123", "--print", "--json"],
            "",
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["print"]["outcome"], "queued", "{v}");
    }

    // Later (past the first retry's back-off), the printer is back and two workers run a pass at once.
    let later = (chrono::Utc::now() + chrono::TimeDelta::minutes(10)).to_rfc3339();
    let workers: Vec<_> =
        (0..2).map(|_| command(&["worker", "--once", "--json"], true, Some(later.clone())).spawn().unwrap()).collect();
    let mut printed = 0;
    for w in workers {
        let out = w.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let pass: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        printed += pass["print"]["printed"].as_array().unwrap().len();
        assert!(pass["print"]["failed"].as_array().unwrap().is_empty(), "{pass}");
    }
    assert_eq!(printed, JOBS, "every job printed by exactly one worker");
    assert_eq!(std::fs::read_dir(&printed_dir).unwrap().count(), JOBS);

    // A third pass finds nothing to do, and the queue says so.
    let out = command(&["worker", "--once", "--json"], true, Some(later)).output().unwrap();
    let pass: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pass["print"]["printed"].as_array().unwrap().len(), 0, "{pass}");
    assert_eq!(pass["print_queue"]["queued"], 0, "{pass}");
}
