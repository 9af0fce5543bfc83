//! The invoice page, read back with poppler and qpdf.

use chrono::NaiveDate;
use keydesk::docs::{render_invoice, DocError, InvoiceBuyer, InvoiceData, InvoiceSettings};
use rust_decimal::Decimal;

use super::support::{font, tools};

fn settings() -> InvoiceSettings {
    InvoiceSettings {
        seller_name: "北京示例数字认证服务有限公司".to_string(),
        seller_tax_id: "91110108MA00000000".to_string(),
        seller_address_phone: "北京市海淀区示例路1号 010-00000000".to_string(),
        seller_bank_account: "示例银行北京分行 1100 0000 0000".to_string(),
        issuer_name: "李会计".to_string(),
        ..InvoiceSettings::default()
    }
}

fn sample() -> InvoiceData {
    InvoiceData {
        number: None,
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
        buyer: InvoiceBuyer {
            name: "北京某某科技有限公司".to_string(),
            tax_id: "91110108MA01ABCD2X".to_string(),
            address: "北京市丰台区丰台路18号".to_string(),
            phone: "010-12345678".to_string(),
            bank: String::new(),
            account: String::new(),
        },
        total: Decimal::new(24900, 2),
        quantity: 1,
        spec: String::new(),
        order_no: "0000250427000004".to_string(),
        remarks: vec![],
    }
}

fn text_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("invoice.pdf");
    std::fs::write(&path, pdf).expect("write");
    tools::qpdf_check(&path);
    let fonts = tools::pdffonts(&path);
    assert!(fonts.iter().all(|l| l.split_whitespace().next().unwrap_or("").contains('+')), "{fonts:?}");
    tools::pdftotext(&path).split_whitespace().collect()
}

#[test]
fn preview_invoice_reads_back_with_amounts_words_and_watermark() {
    if !tools::require("pdftotext") || !tools::require("qpdf") || !tools::require("pdffonts") {
        return;
    }
    let pdf = render_invoice(font(), &settings(), &sample()).expect("render");
    assert!(pdf.len() <= 150 * 1024, "invoice is {} bytes", pdf.len());
    let text = text_of(&pdf);
    for expected in [
        "电子发票（普通发票）",
        "北京某某科技有限公司",
        "91110108MA01ABCD2X",
        "北京示例数字认证服务有限公司",
        "*信息技术服务*数字证书更新服务费",
        "234.91",
        "14.09",
        "6%",
        "¥234.91",
        "¥14.09",
        "贰佰肆拾玖圆整",
        "¥249.00",
        "0000250427000004",
        "李会计",
        "2026年11月30日",
        "样张",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn legal_issuer_invoice_has_no_watermark_and_shows_the_number() {
    if !tools::require("pdftotext") || !tools::require("qpdf") || !tools::require("pdffonts") {
        return;
    }
    let settings = InvoiceSettings { legal_issuer: true, tax_rate: Decimal::new(1, 2), ..settings() };
    let data = InvoiceData {
        number: Some("25117000000012345678".to_string()),
        total: Decimal::new(10173, 2),
        quantity: 2,
        ..sample()
    };
    let text = text_of(&render_invoice(font(), &settings, &data).expect("render"));
    assert!(!text.contains("样张"), "{text}");
    for expected in ["25117000000012345678", "壹佰零壹圆柒角叁分", "¥101.73", "1%", "100.72", "1.01", "50.36"]
    {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn invoice_refuses_missing_seller_bad_number_and_unprintable_buyer() {
    let err = render_invoice(font(), &InvoiceSettings::default(), &sample()).expect_err("no seller");
    assert!(err.to_string().contains("seller_name"), "{err}");
    let data = InvoiceData { number: Some("123".into()), ..sample() };
    assert!(matches!(render_invoice(font(), &settings(), &data), Err(DocError::Invalid(_))));
    let mut data = sample();
    data.buyer.name = "\u{2A6D6}\u{2A6D6}面馆".to_string();
    match render_invoice(font(), &settings(), &data) {
        Err(DocError::MissingGlyphs(m)) => assert_eq!(m.characters(), vec!['\u{2A6D6}']),
        other => panic!("expected MissingGlyphs, got {other:?}"),
    }
    let data = InvoiceData { total: Decimal::new(249_005, 3), ..sample() };
    assert!(matches!(render_invoice(font(), &settings(), &data), Err(DocError::Tax(_))));
}
