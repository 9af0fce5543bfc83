//! keydesk's own return label for the renewed key: a 100×150 mm (or 76×130 mm) page for a 203 dpi
//! thermal printer with the SF waybill as a Code 128 symbol and as text, product and payment, the
//! recipient's full name, phone and address, the desk as sender, contents, pieces, order number,
//! print time, and — when SF's order API supplied them — the route code (big) and the route QR code.
//! A reprint carries a visible 重印 mark.
//!
//! Bars are whole printer dots: 3 dots of 0.125 mm = 0.375 mm per module, with at least 10 modules
//! of clear space on each side.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::draw::{Align, Canvas, Weight};
use super::fonts::{check_glyphs, DocFont};
use super::DocError;

/// One dot of a 203 dpi (8 dots/mm) thermal printer, in mm.
pub const DOT_MM: f32 = 0.125;
/// Clear space required on each side of the barcode, in modules.
pub const QUIET_ZONE_MODULES: usize = 10;

/// The label stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LabelSize {
    /// 100 × 150 mm, two parts (the lower part is the customer's copy).
    #[default]
    #[serde(rename = "100x150")]
    Mm100x150,
    /// 76 × 130 mm, one part.
    #[serde(rename = "76x130")]
    Mm76x130,
}

impl LabelSize {
    /// Width and height in mm.
    pub fn mm(self) -> (f32, f32) {
        match self {
            Self::Mm100x150 => (100.0, 150.0),
            Self::Mm76x130 => (76.0, 130.0),
        }
    }

    /// The IPP `media` keyword for this stock (PWG 5101.1 custom size).
    pub fn ipp_media(self) -> &'static str {
        match self {
            Self::Mm100x150 => "custom_100x150mm_100x150mm",
            Self::Mm76x130 => "custom_76x130mm_76x130mm",
        }
    }
}

/// The label part of the configuration (`[label]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelSettings {
    /// `"100x150"` (default) or `"76x130"`.
    pub size: LabelSize,
    /// The desk as sender.
    pub sender_name: String,
    pub sender_phone: String,
    pub sender_address: String,
    /// SF product printed on the label, e.g. 顺丰标快.
    pub product: String,
    /// 寄付月结 / 寄付现结 / 到付.
    pub payment_method: String,
    /// SF monthly account (月结卡号); empty = not printed.
    pub monthly_account: String,
    /// 托寄物.
    pub contents: String,
    /// Printer dots per barcode module (203 dpi: 3 dots = 0.375 mm).
    pub barcode_module_dots: u8,
}

impl Default for LabelSettings {
    fn default() -> Self {
        Self {
            size: LabelSize::default(),
            sender_name: "秦经理".to_string(),
            sender_phone: "010-00000000".to_string(),
            sender_address: "北京市海淀区紫竹院路车道沟10号院科技一号楼".to_string(),
            product: "顺丰标快".to_string(),
            payment_method: "寄付月结".to_string(),
            monthly_account: String::new(),
            contents: "CA数字证书 UKey".to_string(),
            barcode_module_dots: 3,
        }
    }
}

/// The member the key goes back to, exactly as recorded in the order (a courier label shows the
/// full name, phone and address).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelRecipient {
    pub name: String,
    pub phone: String,
    /// 所在地区, e.g. 北京市市辖区丰台区.
    pub region: String,
    /// 收货地址.
    pub address: String,
}

/// Everything that varies from one label to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelData {
    /// The SF waybill number, already validated (`SF` + 13 digits, or 12 digits).
    pub waybill: String,
    /// The platform order number.
    pub order_no: String,
    pub recipient: LabelRecipient,
    pub pieces: u32,
    pub printed_at: DateTime<FixedOffset>,
    /// SF's destination route code (`destRouteLabel`), printed big.
    pub route_code: Option<String>,
    /// SF's route QR payload (`twoDimensionCode`).
    pub qr_code: Option<String>,
    /// A second print of the same waybill: marked 重印.
    pub reprint: bool,
    /// Free remark (备注), printed small.
    pub remark: Option<String>,
}

/// Splits a waybill into Code 128 character sets the way SF's labels do: set B for the letters
/// (and one digit when the digit run is odd), then set C for pairs of digits.
/// `SF1234567890123` → B `SF1`, C `234567890123`: 145 modules.
pub fn code128_input(waybill: &str) -> Result<String, DocError> {
    if waybill.len() < 2 || !waybill.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(DocError::Barcode(format!("waybill {waybill:?} must be at least 2 printable ASCII characters")));
    }
    let digits = waybill.bytes().rev().take_while(u8::is_ascii_digit).count();
    let len = waybill.len();
    Ok(if digits == len && len.is_multiple_of(2) {
        format!("Ć{waybill}")
    } else if digits >= 4 {
        let c_len = digits - digits % 2;
        let (b_part, c_part) = waybill.split_at(len - c_len);
        format!("Ɓ{b_part}Ć{c_part}")
    } else {
        format!("Ɓ{waybill}")
    })
}

/// The modules (1 = bar) of the waybill's Code 128 symbol, without quiet zones.
pub fn code128_modules(waybill: &str) -> Result<Vec<u8>, DocError> {
    let input = code128_input(waybill)?;
    let code =
        barcoders::sym::code128::Code128::new(&input).map_err(|e| DocError::Barcode(format!("{waybill}: {e}")))?;
    Ok(code.encode())
}

fn snap(mm: f32) -> f32 {
    (mm / DOT_MM).round() * DOT_MM
}

/// Draws the return label and returns the PDF.
pub fn render_label(font: &DocFont, settings: &LabelSettings, data: &LabelData) -> Result<Vec<u8>, DocError> {
    if data.waybill.trim().is_empty() {
        return Err(DocError::Invalid("waybill is empty".into()));
    }
    if data.recipient.name.trim().is_empty() || data.recipient.address.trim().is_empty() {
        return Err(DocError::Invalid("recipient name and address are required".into()));
    }
    if data.pieces == 0 {
        return Err(DocError::Invalid("pieces must be at least 1".into()));
    }
    let printed_at = data.printed_at.format("%Y-%m-%d %H:%M").to_string();
    let recipient_line = format!("{}  {}", data.recipient.name, data.recipient.phone);
    let recipient_address = format!("{}{}", data.recipient.region, data.recipient.address);
    let sender_line = format!("{}  {}", settings.sender_name, settings.sender_phone);
    let account = if settings.monthly_account.is_empty() {
        String::new()
    } else {
        format!("  月结卡号：{}", settings.monthly_account)
    };
    let payment_line = format!("付款方式：{}{}", settings.payment_method, account);
    let contents_line = format!("托寄物：{}   件数：{}", settings.contents, data.pieces);
    let order_line = format!("订单号：{}", data.order_no);
    let time_line = format!("打印时间：{printed_at}");
    let remark_line = data.remark.as_ref().map(|r| format!("备注：{r}"));

    let mut texts: Vec<&str> = vec![
        &data.waybill,
        &recipient_line,
        &recipient_address,
        &sender_line,
        &settings.sender_address,
        &settings.product,
        &payment_line,
        &contents_line,
        &order_line,
        &time_line,
        "收寄重印运单号",
    ];
    if let Some(route) = &data.route_code {
        texts.push(route);
    }
    if let Some(remark) = &remark_line {
        texts.push(remark);
    }
    check_glyphs(font, texts)?;

    let modules = code128_modules(&data.waybill)?;
    let module = f32::from(settings.barcode_module_dots.max(1)) * DOT_MM;
    let (w, h) = settings.size.mm();
    let small = settings.size == LabelSize::Mm76x130;
    let k = if small { 0.85 } else { 1.0 };
    let margin = 3.0;
    let symbol_width = modules.len() as f32 * module;
    let needed = symbol_width + 2.0 * QUIET_ZONE_MODULES as f32 * module;
    if needed > w {
        return Err(DocError::Barcode(format!(
            "a {symbol_width:.1} mm symbol with quiet zones needs {needed:.1} mm, the label is {w} mm wide"
        )));
    }

    let mut c = Canvas::new(&format!("keydesk label {}", data.waybill), font, w, h);

    // Header: product and payment on the left, 重印 on the right.
    c.text(margin, 2.5, 16.0 * k, Weight::Bold, Align::Left, &settings.product);
    c.text(margin, 10.0, 8.0 * k, Weight::Regular, Align::Left, &settings.payment_method);
    if data.reprint {
        let size = 15.0 * k;
        let tw = c.text_width("重印", size);
        let bx = w - margin - tw - 3.0;
        c.stroke_rect(bx, 2.5, tw + 3.0, 9.0, 0.5);
        c.text(bx + 1.5, 3.6, size, Weight::Bold, Align::Left, "重印");
    }
    c.line(0.0, 14.5, w, 14.5, 0.3);

    // Main barcode, centred and snapped to the dot grid.
    let bar_top = 16.0;
    let bar_height = if small { 12.0 } else { 15.0 };
    let bar_x = snap((w - symbol_width) / 2.0);
    c.barcode(&modules, bar_x, bar_top, module, bar_height);
    let mut y = bar_top + bar_height + 1.0;
    y += c.text(w / 2.0, y, 11.0 * k, Weight::Bold, Align::Center, &data.waybill);
    c.line(0.0, y + 0.5, w, y + 0.5, 0.3);
    y += 1.5;

    // Route code (big) when SF supplied one.
    if let Some(route) = data.route_code.as_deref().filter(|r| !r.is_empty()) {
        let size =
            c.fit_size(route, 30.0 * k, 12.0, w - 2.0 * margin).ok_or(DocError::TextTooLong { field: "route code" })?;
        y += c.text(w / 2.0, y, size, Weight::Bold, Align::Center, route);
        c.line(0.0, y + 0.5, w, y + 0.5, 0.3);
        y += 1.5;
    }

    // Recipient block, QR on the right when supplied.
    let qr_size = if small { 17.0 } else { 22.0 };
    let has_qr = data.qr_code.as_deref().is_some_and(|q| !q.is_empty());
    let block_x = margin + 8.0;
    let text_right = if has_qr { w - margin - qr_size - 2.0 } else { w - margin };
    let block_top = y;
    c.text(margin, y + 0.5, 15.0 * k, Weight::Bold, Align::Left, "收");
    let name_size = c
        .fit_size(&recipient_line, 12.0 * k, 7.0, text_right - block_x)
        .ok_or(DocError::TextTooLong { field: "recipient name and phone" })?;
    y += c.text(block_x, y, name_size, Weight::Bold, Align::Left, &recipient_line);
    y += c.paragraph(
        "recipient address",
        block_x,
        y,
        text_right - block_x,
        4,
        10.0 * k,
        6.5,
        Weight::Regular,
        &recipient_address,
    )?;
    if let Some(qr) = data.qr_code.as_deref().filter(|q| !q.is_empty()) {
        c.qr(qr, w - margin - qr_size, block_top, qr_size)?;
        y = y.max(block_top + qr_size);
    }
    y += 1.0;
    c.line(0.0, y, w, y, 0.3);
    y += 1.0;

    // Sender block.
    c.text(margin, y + 0.3, 11.0 * k, Weight::Bold, Align::Left, "寄");
    y += c.text(block_x, y, 8.0 * k, Weight::Regular, Align::Left, &sender_line);
    y += c.paragraph(
        "sender address",
        block_x,
        y,
        w - margin - block_x,
        2,
        8.0 * k,
        6.0,
        Weight::Regular,
        &settings.sender_address,
    )?;
    y += 0.5;
    c.line(0.0, y, w, y, 0.3);
    y += 1.0;

    // Shipment details.
    let info_size = 8.0 * k;
    for line in [&payment_line, &contents_line, &order_line, &time_line] {
        y += c.paragraph("shipment details", margin, y, w - 2.0 * margin, 2, info_size, 6.0, Weight::Regular, line)?;
    }
    if let Some(remark) = &remark_line {
        y += c.paragraph("remark", margin, y, w - 2.0 * margin, 2, info_size, 6.0, Weight::Regular, remark)?;
    }

    // The customer's part of a two-part label: the waybill again, small.
    let stub_top = h - 27.0;
    if !small {
        if y > stub_top - 1.0 {
            return Err(DocError::TextTooLong { field: "label" });
        }
        c.line(0.0, stub_top, w, stub_top, 0.2);
        let stub_module = 2.0 * DOT_MM;
        let stub_width = modules.len() as f32 * stub_module;
        let stub_x = snap(margin + QUIET_ZONE_MODULES as f32 * stub_module);
        c.barcode(&modules, stub_x, stub_top + 2.0, stub_module, 9.0);
        let right_x = stub_x + stub_width + QUIET_ZONE_MODULES as f32 * stub_module;
        let mut sy = stub_top + 2.0;
        sy += c.text(right_x, sy, 8.0, Weight::Bold, Align::Left, &data.waybill);
        let name = format!("收：{}", data.recipient.name);
        if let Some(size) = c.fit_size(&name, 8.0, 6.0, w - margin - right_x) {
            sy += c.text(right_x, sy, size, Weight::Regular, Align::Left, &name);
        }
        if let Some(size) = c.fit_size(&order_line, 7.0, 5.0, w - margin - right_x) {
            c.text(right_x, sy, size, Weight::Regular, Align::Left, &order_line);
        }
        c.text(margin, stub_top + 13.0, 7.0, Weight::Regular, Align::Left, &time_line);
    } else if y > h - 2.0 {
        return Err(DocError::TextTooLong { field: "label" });
    }

    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sf_waybill_uses_set_b_then_c_for_145_modules() {
        assert_eq!(code128_input("SF1234567890123").expect("ok"), "ƁSF1Ć234567890123");
        let modules = code128_modules("SF1234567890123").expect("ok");
        assert_eq!(modules.len(), 145);
        assert!((modules.len() as f32 * 3.0 * DOT_MM - 54.375).abs() < 0.001);
    }

    #[test]
    fn legacy_twelve_digit_waybill_is_all_set_c() {
        assert_eq!(code128_input("123456789012").expect("ok"), "Ć123456789012");
        assert_eq!(code128_modules("123456789012").expect("ok").len(), 101);
        assert_eq!(code128_input("AB12").expect("ok"), "ƁAB12");
        assert_eq!(code128_input("A12345").expect("ok"), "ƁA1Ć2345");
    }

    #[test]
    fn refuses_non_ascii_waybills() {
        assert!(code128_input("ＳＦ123").is_err());
        assert!(code128_input("S").is_err());
    }

    #[test]
    fn settings_sizes_read_as_the_config_spells_them() {
        let s: LabelSettings = serde_json::from_str(r#"{"size":"76x130"}"#).expect("parse");
        assert_eq!(s.size, LabelSize::Mm76x130);
        assert_eq!(s.sender_name, "秦经理");
        assert!(serde_json::from_str::<LabelSettings>(r#"{"size":"100x200"}"#).is_err());
        assert!(serde_json::from_str::<LabelSettings>(r#"{"colour":"red"}"#).is_err());
    }
}
