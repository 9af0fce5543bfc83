//! The return label, read back by tools that know nothing of keydesk.

use chrono::{FixedOffset, TimeZone};
use keydesk::docs::{render_label, DocError, LabelData, LabelRecipient, LabelSettings, LabelSize};

use super::support::{font, tools};

fn sample() -> LabelData {
    let tz = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    LabelData {
        waybill: "SF1234567890123".to_string(),
        order_no: "0000250427000004".to_string(),
        recipient: LabelRecipient {
            name: "王喆".to_string(),
            phone: "13800138000".to_string(),
            region: "北京市市辖区丰台区".to_string(),
            address: "丰台路18号院3号楼2单元501室".to_string(),
        },
        pieces: 1,
        printed_at: tz.with_ymd_and_hms(2026, 11, 30, 14, 5, 0).single().expect("time"),
        route_code: Some("755WE-571A".to_string()),
        qr_code: Some("MMM={'k1':'755WE','k5':'SF1234567890123'}".to_string()),
        reprint: true,
        remark: None,
    }
}

fn write(dir: &tempfile::TempDir, pdf: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join("label.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    path
}

#[test]
fn label_barcode_scans_back_to_the_exact_waybill_at_203_dpi() {
    if !tools::require("pdftoppm") || !tools::require("zbarimg") {
        return;
    }
    for size in [LabelSize::Mm100x150, LabelSize::Mm76x130] {
        let settings = LabelSettings { size, ..LabelSettings::default() };
        let pdf = render_label(font(), &settings, &sample()).expect("render");
        let dir = tempfile::tempdir().expect("tmp");
        let png = tools::rasterise_mono(&write(&dir, &pdf), 203);
        let codes = tools::zbar(&png, "code128");
        assert!(!codes.is_empty(), "{size:?}: no Code 128 found");
        assert!(codes.iter().all(|c| c == "SF1234567890123"), "{size:?}: {codes:?}");
        let qr = tools::zbar(&png, "qrcode");
        assert_eq!(qr, vec!["MMM={'k1':'755WE','k5':'SF1234567890123'}".to_string()], "{size:?}");
    }
}

#[test]
fn legacy_numeric_waybill_scans_too() {
    if !tools::require("pdftoppm") || !tools::require("zbarimg") {
        return;
    }
    let data =
        LabelData { waybill: "123456789012".to_string(), route_code: None, qr_code: None, reprint: false, ..sample() };
    let pdf = render_label(font(), &LabelSettings::default(), &data).expect("render");
    let dir = tempfile::tempdir().expect("tmp");
    let png = tools::rasterise_mono(&write(&dir, &pdf), 203);
    let codes = tools::zbar(&png, "code128");
    assert!(!codes.is_empty() && codes.iter().all(|c| c == "123456789012"), "{codes:?}");
}

#[test]
fn label_text_reads_back_with_names_address_and_marks() {
    if !tools::require("pdftotext") {
        return;
    }
    let settings = LabelSettings { monthly_account: "0101234567".to_string(), ..LabelSettings::default() };
    let pdf = render_label(font(), &settings, &sample()).expect("render");
    let dir = tempfile::tempdir().expect("tmp");
    let text: String = tools::pdftotext(&write(&dir, &pdf)).split_whitespace().collect();
    for expected in [
        "SF1234567890123",
        "王喆",
        "13800138000",
        "北京市市辖区丰台区丰台路18号院3号楼2单元501室",
        "秦经理",
        "北京市海淀区紫竹院路车道沟10号院科技一号楼",
        "顺丰标快",
        "寄付月结",
        "0101234567",
        "CA数字证书UKey",
        "0000250427000004",
        "2026-11-3014:05",
        "755WE-571A",
        "重印",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let first = render_label(font(), &settings, &LabelData { reprint: false, ..sample() }).expect("render");
    let text = tools::pdftotext(&write(&dir, &first));
    assert!(!text.contains("重印"), "a first print must not say 重印");
}

#[test]
fn label_embeds_a_subset_font_and_passes_qpdf() {
    if !tools::require("pdffonts") || !tools::require("qpdf") {
        return;
    }
    let pdf = render_label(font(), &LabelSettings::default(), &sample()).expect("render");
    assert!(pdf.len() <= 150 * 1024, "label is {} bytes", pdf.len());
    let dir = tempfile::tempdir().expect("tmp");
    let path = write(&dir, &pdf);
    let fonts = tools::pdffonts(&path);
    assert!(!fonts.is_empty(), "no fonts listed");
    for line in &fonts {
        let name = line.split_whitespace().next().unwrap_or("");
        assert!(name.contains('+'), "font not subset: {line}");
        assert!(line.contains(" yes "), "font not embedded: {line}");
    }
    tools::qpdf_check(&path);
}

#[test]
fn name_with_a_character_missing_from_the_font_is_refused_by_name() {
    let mut data = sample();
    data.recipient.name = "王\u{2A6D6}".to_string(); // 𪛖, CJK Extension B, not in Noto Sans CJK
    let err = render_label(font(), &LabelSettings::default(), &data).expect_err("must refuse");
    match &err {
        DocError::MissingGlyphs(m) => {
            assert_eq!(m.characters(), vec!['\u{2A6D6}']);
            assert!(m.missing[0].text.contains("王\u{2A6D6}"));
        }
        other => panic!("expected MissingGlyphs, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("U+2A6D6") && message.contains('\u{2A6D6}'), "{message}");
}

#[test]
fn an_address_too_long_for_the_label_is_refused_not_cut() {
    let mut data = sample();
    data.recipient.address = "很长的地址".repeat(60);
    let err = render_label(font(), &LabelSettings::default(), &data).expect_err("must refuse");
    assert!(matches!(err, DocError::TextTooLong { field: "recipient address" }), "{err:?}");
}
