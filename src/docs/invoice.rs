//! The VAT e-invoice page (电子发票（普通发票）) for a renewal: seller and buyer, one service line
//! `*信息技术服务*数字证书更新服务费` in 年, the tax split at the configured rate, 价税合计 in 大写 and
//! 小写, remarks with the order number, and the issuer's name.
//!
//! Only the national tax platform or a licensed provider issues the legal invoice. Unless the settings
//! say keydesk is the legal issuer, the page carries a large 样张 watermark: it is a preview for
//! checking, not an invoice. The page is A5 landscape (210 × 148 mm) so it prints on any A4 printer.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::draw::{Align, Canvas, Weight};
use super::fonts::{check_glyphs, DocFont};
use super::DocError;
use crate::domain::tax::{rate_percent, tax_split, to_chinese_uppercase, validate_rate, with_two_decimals};

/// Where the legal invoice comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceBackend {
    /// keydesk draws the page itself (a 样张 unless `legal_issuer`).
    #[default]
    Local,
    /// Staff attach the PDF the tax platform returned; keydesk's page is only a preview.
    Attach,
}

/// The invoice part of the configuration (`[invoice]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InvoiceSettings {
    /// 销售方名称 (required to draw an invoice).
    pub seller_name: String,
    /// 销售方统一社会信用代码/纳税人识别号 (required).
    pub seller_tax_id: String,
    /// 销售方地址、电话 (optional, printed in the remarks).
    pub seller_address_phone: String,
    /// 销售方开户行及账号 (optional, printed in the remarks).
    pub seller_bank_account: String,
    /// VAT rate as a fraction, confirmed by the accountant: `"0.06"` general taxpayer,
    /// `"0.01"`/`"0.03"` small-scale.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
    /// 开票人.
    pub issuer_name: String,
    /// `"local"` or `"attach"`.
    pub backend: InvoiceBackend,
    /// True only when keydesk's page is itself the legal invoice (never for a plain desk).
    pub legal_issuer: bool,
    /// 项目名称 of the service line.
    pub item_name: String,
    /// 单位 of the service line.
    pub unit: String,
}

impl Default for InvoiceSettings {
    fn default() -> Self {
        Self {
            seller_name: String::new(),
            seller_tax_id: String::new(),
            seller_address_phone: String::new(),
            seller_bank_account: String::new(),
            tax_rate: Decimal::new(6, 2),
            issuer_name: String::new(),
            backend: InvoiceBackend::Local,
            legal_issuer: false,
            item_name: "*信息技术服务*数字证书更新服务费".to_string(),
            unit: "年".to_string(),
        }
    }
}

/// The buyer as entered in the order's invoice data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceBuyer {
    /// 发票抬头.
    pub name: String,
    /// 统一社会信用代码/纳税人识别号 (empty for a private person).
    pub tax_id: String,
    pub address: String,
    pub phone: String,
    pub bank: String,
    pub account: String,
}

/// Everything that varies from one invoice to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceData {
    /// The 20-digit number the issuer returned; `None` on a preview.
    pub number: Option<String>,
    pub issued_on: NaiveDate,
    pub buyer: InvoiceBuyer,
    /// 价税合计: the tax-inclusive price paid (e.g. 249.00).
    pub total: Decimal,
    /// 数量: the renewal term in years.
    pub quantity: u32,
    /// 规格型号 (may be empty).
    pub spec: String,
    /// The platform order number, printed in the remarks.
    pub order_no: String,
    /// Further remark lines.
    pub remarks: Vec<String>,
}

/// The numbers on the invoice face, computed once so a preview and an issuer request agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceFigures {
    /// 金额 (tax-exclusive).
    pub amount: Decimal,
    /// 税额.
    pub tax: Decimal,
    /// 价税合计.
    pub total: Decimal,
    /// 单价 (tax-exclusive, per unit): two decimals, more only when the division needs them (max 8).
    pub unit_price: Decimal,
    pub rate: Decimal,
    /// 价税合计（大写）.
    pub total_uppercase: String,
}

/// Computes 金额, 税额, 单价 and 大写 for `total` paid for `quantity` units at `rate`.
pub fn invoice_figures(total: Decimal, quantity: u32, rate: Decimal) -> Result<InvoiceFigures, DocError> {
    if quantity == 0 {
        return Err(DocError::Invalid("quantity (term in years) must be at least 1".into()));
    }
    validate_rate(rate)?;
    let split = tax_split(total, rate)?;
    let mut unit_price = (split.amount / Decimal::from(quantity))
        .round_dp_with_strategy(8, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    if unit_price.scale() < 2 {
        unit_price.rescale(2);
    }
    Ok(InvoiceFigures {
        amount: split.amount,
        tax: split.tax,
        total: with_two_decimals(total),
        unit_price,
        rate,
        total_uppercase: to_chinese_uppercase(total)?,
    })
}

/// The non-empty parts joined by a space.
fn join_present(parts: &[&str]) -> String {
    parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

fn money(value: Decimal) -> String {
    format!("¥{}", with_two_decimals(value))
}

/// Draws the invoice (or its 样张 preview) and returns the PDF.
pub fn render_invoice(font: &DocFont, settings: &InvoiceSettings, data: &InvoiceData) -> Result<Vec<u8>, DocError> {
    if settings.seller_name.trim().is_empty() || settings.seller_tax_id.trim().is_empty() {
        return Err(DocError::Invalid("invoice.seller_name and invoice.seller_tax_id must be configured".into()));
    }
    if data.buyer.name.trim().is_empty() {
        return Err(DocError::Invalid("the buyer's invoice title (发票抬头) is empty".into()));
    }
    if let Some(number) = &data.number {
        if number.len() != 20 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DocError::Invalid(format!("invoice number {number:?} is not 20 digits")));
        }
    }
    let figures = invoice_figures(data.total, data.quantity, settings.tax_rate)?;
    let preview = !settings.legal_issuer;

    let number_line = format!("发票号码：{}", data.number.as_deref().unwrap_or("（待开具）"));
    let date_line = format!("开票日期：{}", data.issued_on.format("%Y年%m月%d日"));
    let buyer_name = format!("名称：{}", data.buyer.name);
    let buyer_tax = format!("统一社会信用代码/纳税人识别号：{}", data.buyer.tax_id);
    let seller_name = format!("名称：{}", settings.seller_name);
    let seller_tax = format!("统一社会信用代码/纳税人识别号：{}", settings.seller_tax_id);
    let quantity = data.quantity.to_string();
    let unit_price = figures.unit_price.to_string();
    let amount = with_two_decimals(figures.amount).to_string();
    let rate = rate_percent(figures.rate);
    let tax = with_two_decimals(figures.tax).to_string();
    let amount_total = money(figures.amount);
    let tax_total = money(figures.tax);
    let total_small = format!("（小写）{}", money(figures.total));
    let issuer_line = format!("开票人：{}", settings.issuer_name);

    let mut remarks: Vec<String> = vec![format!("订单号：{}", data.order_no)];
    let buyer_addr = join_present(&[&data.buyer.address, &data.buyer.phone]);
    if !buyer_addr.is_empty() {
        remarks.push(format!("购方地址电话：{buyer_addr}"));
    }
    let buyer_bank = join_present(&[&data.buyer.bank, &data.buyer.account]);
    if !buyer_bank.is_empty() {
        remarks.push(format!("购方开户银行及账号：{buyer_bank}"));
    }
    if !settings.seller_address_phone.is_empty() {
        remarks.push(format!("销方地址电话：{}", settings.seller_address_phone));
    }
    if !settings.seller_bank_account.is_empty() {
        remarks.push(format!("销方开户银行及账号：{}", settings.seller_bank_account));
    }
    remarks.extend(data.remarks.iter().cloned());

    const TITLE: &str = "电子发票（普通发票）";
    const HEADERS: [&str; 8] = ["项目名称", "规格型号", "单位", "数量", "单价", "金额", "税率/征收率", "税额"];
    const WATERMARK: &str = "样张";
    const PREVIEW_NOTE: &str = "样张：预览件，非正式发票，仅供核对";
    let mut texts: Vec<&str> = vec![
        TITLE,
        &number_line,
        &date_line,
        &buyer_name,
        &buyer_tax,
        &seller_name,
        &seller_tax,
        &settings.item_name,
        &data.spec,
        &settings.unit,
        &unit_price,
        &rate,
        &amount_total,
        &figures.total_uppercase,
        &total_small,
        &issuer_line,
        "购买方信息销售方信息合计价税合计（大写）⊗备注",
        PREVIEW_NOTE,
    ];
    texts.extend(HEADERS);
    texts.extend(remarks.iter().map(String::as_str));
    check_glyphs(font, texts)?;

    let (w, h) = (210.0, 148.0);
    let mut c = Canvas::new(&format!("keydesk invoice {}", data.order_no), font, w, h);

    if preview {
        c.grey(0.82);
        c.rotated_text(55.0, 118.0, 110.0, 20.0, WATERMARK);
        c.grey(0.0);
    }

    // Title and number.
    c.text(w / 2.0, 7.0, 18.0, Weight::Bold, Align::Center, TITLE);
    let title_w = c.text_width(TITLE, 18.0);
    c.line(w / 2.0 - title_w / 2.0, 15.5, w / 2.0 + title_w / 2.0, 15.5, 0.3);
    c.line(w / 2.0 - title_w / 2.0, 16.3, w / 2.0 + title_w / 2.0, 16.3, 0.3);
    c.text(148.0, 6.0, 9.0, Weight::Regular, Align::Left, &number_line);
    c.text(148.0, 11.0, 9.0, Weight::Regular, Align::Left, &date_line);
    if preview {
        c.text(8.0, 7.0, 9.0, Weight::Bold, Align::Left, PREVIEW_NOTE);
    }

    // Outer frame and the party row.
    let (left, right) = (8.0, 202.0);
    let top = 20.0;
    let party_bottom = 40.0;
    let items_top = party_bottom;
    let header_bottom = items_top + 6.0;
    let sum_top = 78.0;
    let total_top = sum_top + 6.0;
    let remark_top = total_top + 8.0;
    let bottom = 134.0;
    c.stroke_rect(left, top, right - left, bottom - top, 0.3);
    c.line(left, party_bottom, right, party_bottom, 0.3);
    let mid = (left + right) / 2.0;
    c.line(mid, top, mid, party_bottom, 0.3);
    for (x, label) in [(left, "购买方信息"), (mid, "销售方信息")] {
        c.line(x + 7.0, top, x + 7.0, party_bottom, 0.3);
        let mut y = top + 1.5;
        for ch in label.chars() {
            y += c.text(x + 3.5, y, 8.5, Weight::Regular, Align::Center, &ch.to_string()) * 0.9;
        }
    }
    let party_width = mid - left - 10.0;
    for (x, name, tax_id, field) in
        [(left + 9.0, &buyer_name, &buyer_tax, "buyer"), (mid + 9.0, &seller_name, &seller_tax, "seller")]
    {
        let used = c.paragraph(field, x, top + 3.0, party_width, 2, 9.0, 6.5, Weight::Regular, name)?;
        c.paragraph(field, x, top + 4.0 + used.max(5.0), party_width, 1, 9.0, 6.0, Weight::Regular, tax_id)?;
    }

    // Items table.
    let cols: [f32; 9] = [left, 62.0, 84.0, 96.0, 110.0, 134.0, 160.0, 178.0, right];
    c.line(left, header_bottom, right, header_bottom, 0.2);
    for (i, head) in HEADERS.iter().enumerate() {
        c.text((cols[i] + cols[i + 1]) / 2.0, items_top + 1.3, 8.5, Weight::Regular, Align::Center, head);
    }
    let row_top = header_bottom + 1.5;
    c.paragraph(
        "item name",
        cols[0] + 1.0,
        row_top,
        cols[1] - cols[0] - 2.0,
        2,
        8.5,
        6.0,
        Weight::Regular,
        &settings.item_name,
    )?;
    if !data.spec.is_empty() {
        c.paragraph("spec", cols[1] + 1.0, row_top, cols[2] - cols[1] - 2.0, 2, 8.5, 6.0, Weight::Regular, &data.spec)?;
    }
    c.text((cols[2] + cols[3]) / 2.0, row_top, 8.5, Weight::Regular, Align::Center, &settings.unit);
    for (i, value) in [(3, &quantity), (4, &unit_price), (5, &amount), (7, &tax)] {
        let size = c
            .fit_size(value, 8.5, 6.0, cols[i + 1] - cols[i] - 2.0)
            .ok_or(DocError::TextTooLong { field: "invoice amounts" })?;
        c.text(cols[i + 1] - 1.0, row_top, size, Weight::Regular, Align::Right, value);
    }
    c.text((cols[6] + cols[7]) / 2.0, row_top, 8.5, Weight::Regular, Align::Center, &rate);

    // 合计 and 价税合计.
    c.line(left, sum_top, right, sum_top, 0.2);
    c.text((cols[0] + cols[1]) / 2.0, sum_top + 1.3, 9.0, Weight::Regular, Align::Center, "合计");
    c.text(cols[6] - 1.0, sum_top + 1.3, 9.0, Weight::Regular, Align::Right, &amount_total);
    c.text(cols[8] - 1.0, sum_top + 1.3, 9.0, Weight::Regular, Align::Right, &tax_total);
    c.line(left, total_top, right, total_top, 0.3);
    c.text(left + 2.0, total_top + 2.0, 9.0, Weight::Regular, Align::Left, "价税合计（大写）");
    let upper = format!("⊗{}", figures.total_uppercase);
    let upper_size =
        c.fit_size(&upper, 10.0, 6.0, 134.0 - 42.0).ok_or(DocError::TextTooLong { field: "amount in words" })?;
    c.text(42.0, total_top + 1.8, upper_size, Weight::Bold, Align::Left, &upper);
    c.text(140.0, total_top + 2.0, 9.5, Weight::Bold, Align::Left, &total_small);
    c.line(left, remark_top, right, remark_top, 0.3);

    // Remarks.
    c.line(left + 7.0, remark_top, left + 7.0, bottom, 0.3);
    let mut y = remark_top + 3.0;
    for ch in "备注".chars() {
        y += c.text(left + 3.5, y, 8.5, Weight::Regular, Align::Center, &ch.to_string());
    }
    let mut y = remark_top + 1.5;
    for line in &remarks {
        y += c.paragraph("remarks", left + 9.0, y, right - left - 11.0, 2, 8.0, 6.0, Weight::Regular, line)?;
        if y > bottom - 1.0 {
            return Err(DocError::TextTooLong { field: "remarks" });
        }
    }

    c.text(left + 2.0, bottom + 3.0, 9.0, Weight::Regular, Align::Left, &issuer_line);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn figures_for_a_one_year_renewal_at_six_percent() {
        let f = invoice_figures(d("249.00"), 1, d("0.06")).expect("figures");
        assert_eq!(f.amount.to_string(), "234.91");
        assert_eq!(f.tax.to_string(), "14.09");
        assert_eq!(f.unit_price.to_string(), "234.91");
        assert_eq!(f.total_uppercase, "贰佰肆拾玖圆整");
    }

    #[test]
    fn unit_price_keeps_the_decimals_the_division_needs() {
        let f = invoice_figures(d("498.00"), 2, d("0.06")).expect("figures");
        assert_eq!(f.amount.to_string(), "469.81");
        assert_eq!(f.unit_price.to_string(), "234.905");
        let f = invoice_figures(d("200.00"), 3, d("0")).expect("figures");
        assert_eq!(f.unit_price.to_string(), "66.66666667");
        assert!(invoice_figures(d("200.00"), 0, d("0.06")).is_err());
    }

    #[test]
    fn settings_read_rate_as_a_string_and_refuse_unknown_keys() {
        let s: InvoiceSettings = serde_json::from_str(r#"{"tax_rate":"0.01","backend":"attach"}"#).expect("parse");
        assert_eq!(s.tax_rate, d("0.01"));
        assert_eq!(s.backend, InvoiceBackend::Attach);
        assert!(!s.legal_issuer);
        assert_eq!(InvoiceSettings::default().tax_rate, d("0.06"));
        assert!(serde_json::from_str::<InvoiceSettings>(r#"{"rate":"0.06"}"#).is_err());
    }
}
