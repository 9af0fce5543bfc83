//! Printers: a real IPP printer (ippeveprinter), the real `lp`, and the file backend.

use std::net::TcpListener;
use std::time::Duration;

use keydesk::docs::LabelSize;
use keydesk::outbound::printer::{CupsPrinter, FilePrinter, IppPrinter, PrintJob, PrintOutcome, Printer};

use super::support::ippeve::IppEvePrinter;
use super::support::tools;

fn sample_pdf() -> Vec<u8> {
    use chrono::{FixedOffset, TimeZone};
    use keydesk::docs::{render_label, LabelData, LabelRecipient, LabelSettings};
    let data = LabelData {
        waybill: "SF1234567890123".into(),
        order_no: "0000250427000004".into(),
        recipient: LabelRecipient {
            name: "张三".into(),
            phone: "13800138000".into(),
            region: "北京市市辖区丰台区".into(),
            address: "丰台路18号".into(),
        },
        pieces: 1,
        printed_at: FixedOffset::east_opt(8 * 3600)
            .and_then(|tz| tz.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).single())
            .expect("time"),
        route_code: None,
        qr_code: None,
        reprint: false,
        remark: None,
    };
    render_label(super::support::font(), &LabelSettings::default(), &data).expect("label")
}

/// The programs a real IPP printer needs (see `support::ippeve`).
fn ippeve_tools() -> bool {
    ["ippeveprinter", "dbus-daemon", "avahi-daemon", "unshare"].iter().all(|t| tools::require(t))
}

/// A loopback port with nothing listening on it.
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[test]
fn ipp_printer_receives_the_exact_pdf_bytes() {
    if !ippeve_tools() {
        return;
    }
    let printer = IppEvePrinter::start();
    let pdf = sample_pdf();
    let ipp = IppPrinter::new(&printer.uri(), "", Duration::from_secs(10));
    let job = PrintJob { name: "label-SF1234567890123", pdf: &pdf, media: Some(LabelSize::Mm100x150.ipp_media()) };
    let mut outcome = ipp.print(&job);
    // ippeveprinter answers server-error-busy while it is still processing a job.
    for _ in 0..20 {
        if !matches!(outcome, PrintOutcome::Retryable(_)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
        outcome = ipp.print(&job);
    }
    assert!(matches!(outcome, PrintOutcome::Printed { job: Some(_) }), "{outcome:?}\n{}", printer.log());
    let spooled = printer.wait_for_document(Duration::from_secs(10));
    assert!(spooled == pdf, "spooled {} bytes, sent {}", spooled.len(), pdf.len());
}

#[test]
fn ipp_printer_that_is_off_is_retryable() {
    let ipp = IppPrinter::new(&format!("ipp://127.0.0.1:{}/ipp/print", dead_port()), "", Duration::from_secs(3));
    let pdf = b"%PDF-1.4\n%%EOF\n";
    let outcome = ipp.print(&PrintJob { name: "x", pdf, media: None });
    assert!(matches!(outcome, PrintOutcome::Retryable(_)), "{outcome:?}");
}

#[test]
fn ipp_printer_without_label_media_refuses_permanently() {
    if !ippeve_tools() {
        return;
    }
    let office = IppEvePrinter::start_with_media(&[]);
    let ipp = IppPrinter::new(&office.uri(), "", Duration::from_secs(5));
    let job = PrintJob { name: "label", pdf: b"%PDF-1.4\n%%EOF\n", media: Some(LabelSize::Mm100x150.ipp_media()) };
    let outcome = ipp.print(&job);
    assert!(
        matches!(outcome, PrintOutcome::Failed(ref m) if m.contains("attributes-or-values-not-supported")),
        "{outcome:?}"
    );
}

#[test]
fn ipp_printer_refusing_a_path_is_a_failure() {
    if !ippeve_tools() {
        return;
    }
    let printer = IppEvePrinter::start();
    let ipp =
        IppPrinter::new(&format!("ipp://127.0.0.1:{}/no/such/printer", printer.port()), "", Duration::from_secs(5));
    let outcome = ipp.print(&PrintJob { name: "x", pdf: b"%PDF-1.4\n%%EOF\n", media: None });
    assert!(matches!(outcome, PrintOutcome::Failed(_)), "{outcome:?}");
}

#[test]
fn lp_without_a_scheduler_is_retryable_and_unknown_queue_fails() {
    if !tools::require("lp") {
        return;
    }
    let pdf = b"%PDF-1.4\n%%EOF\n";
    let job = PrintJob { name: "label", pdf, media: Some("Custom.100x150mm") };
    let down = CupsPrinter::new("label", "").with_server(&format!("127.0.0.1:{}", dead_port()));
    let outcome = down.print(&job);
    assert!(matches!(outcome, PrintOutcome::Retryable(_)), "{outcome:?}");

    if !ippeve_tools() {
        return;
    }
    let printer = IppEvePrinter::start();
    let unknown = CupsPrinter::new("no-such-queue", "").with_server(&format!("127.0.0.1:{}", printer.port()));
    let outcome = unknown.print(&job);
    assert!(matches!(outcome, PrintOutcome::Failed(ref m) if m.contains("does not exist")), "{outcome:?}");
}

#[test]
fn file_printer_writes_whole_files_atomically() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("labels");
    let printer = FilePrinter::new(&out);
    let pdf = sample_pdf();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let printer = printer.clone();
            let pdf = pdf.clone();
            std::thread::spawn(move || {
                let name = format!("label {i}/SF");
                printer.print(&PrintJob { name: &name, pdf: &pdf, media: None })
            })
        })
        .collect();
    for h in handles {
        assert!(matches!(h.join().expect("thread"), PrintOutcome::Printed { job: Some(_) }));
    }
    let entries: Vec<_> = std::fs::read_dir(&out).expect("dir").flatten().map(|e| e.path()).collect();
    assert_eq!(entries.len(), 8, "{entries:?}");
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        assert!(name.ends_with(".pdf") && !name.starts_with('.'), "{name}");
        assert!(!name.contains('/') && !name.contains(' '), "{name}");
        assert_eq!(std::fs::read(&path).expect("read"), pdf);
    }

    // A folder that cannot be created is reported, not panicked on.
    let blocked = dir.path().join("file-not-dir");
    std::fs::write(&blocked, b"x").expect("write");
    let outcome = FilePrinter::new(&blocked.join("sub")).print(&PrintJob { name: "x", pdf: &pdf, media: None });
    assert!(!matches!(outcome, PrintOutcome::Printed { .. }), "{outcome:?}");
}
