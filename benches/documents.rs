//! Times label and invoice rendering with the font already loaded, and prints medians and sizes.
//! Targets: label ≤ 20 ms, invoice ≤ 30 ms median, each PDF ≤ 150 KB.
//! Run: `cargo bench --bench documents`.

use std::time::{Duration, Instant};

use chrono::{FixedOffset, NaiveDate, TimeZone};
use keydesk::docs::{
    render_invoice, render_label, DocFont, FontSettings, InvoiceBuyer, InvoiceData, InvoiceSettings, LabelData,
    LabelRecipient, LabelSettings,
};
use rust_decimal::Decimal;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<F: FnMut() -> usize>(runs: usize, mut f: F) -> (Duration, usize) {
    let mut size = f(); // warm-up
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            size = f();
            start.elapsed()
        })
        .collect();
    (median(samples), size)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let font = DocFont::load(&FontSettings::default())?;
    println!("font load: {:?}", start.elapsed());

    let tz = FixedOffset::east_opt(8 * 3600).ok_or("tz")?;
    let label = LabelData {
        waybill: "SF1234567890123".into(),
        order_no: "0000250427000004".into(),
        recipient: LabelRecipient {
            name: "王喆".into(),
            phone: "13800138000".into(),
            region: "北京市市辖区丰台区".into(),
            address: "丰台路18号院3号楼2单元501室".into(),
        },
        pieces: 1,
        printed_at: tz.with_ymd_and_hms(2026, 11, 30, 14, 5, 0).single().ok_or("time")?,
        route_code: Some("755WE-571A".into()),
        qr_code: Some("MMM={'k1':'755WE','k5':'SF1234567890123'}".into()),
        reprint: false,
        remark: None,
    };
    let label_settings = LabelSettings::default();
    let invoice_settings = InvoiceSettings {
        seller_name: "北京示例数字认证服务有限公司".into(),
        seller_tax_id: "91110108MA00000000".into(),
        issuer_name: "李会计".into(),
        ..InvoiceSettings::default()
    };
    let invoice = InvoiceData {
        number: None,
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 30).ok_or("date")?,
        buyer: InvoiceBuyer {
            name: "北京某某科技有限公司".into(),
            tax_id: "91110108MA01ABCD2X".into(),
            ..InvoiceBuyer::default()
        },
        total: Decimal::new(24900, 2),
        quantity: 1,
        spec: String::new(),
        order_no: "0000250427000004".into(),
        remarks: vec![],
    };

    let runs = 30;
    let (label_median, label_size) =
        time(runs, || render_label(&font, &label_settings, &label).map(|p| p.len()).unwrap_or(0));
    let (invoice_median, invoice_size) =
        time(runs, || render_invoice(&font, &invoice_settings, &invoice).map(|p| p.len()).unwrap_or(0));
    println!(
        "label:   median {:>8.2} ms over {runs} runs, {:>6.1} KB (target ≤ 20 ms, ≤ 150 KB)",
        label_median.as_secs_f64() * 1000.0,
        label_size as f64 / 1024.0
    );
    println!(
        "invoice: median {:>8.2} ms over {runs} runs, {:>6.1} KB (target ≤ 30 ms, ≤ 150 KB)",
        invoice_median.as_secs_f64() * 1000.0,
        invoice_size as f64 / 1024.0
    );
    if label_size == 0 || invoice_size == 0 {
        return Err("a document failed to render".into());
    }
    Ok(())
}
