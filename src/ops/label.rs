//! The return label (回寄面单) of an order: the full recipient from the order's 收货信息 (a courier
//! label must carry it), the sender from `[label]`, and the order's outbound SF waybill — or one given
//! by the desk, which must be an SF number. A label never allocates a waybill. A label is a reprint
//! when one was printed for the order before (the print queue remembers); reprints are audited.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::docs::{render_label, DocFont, LabelData, LabelRecipient, LabelSettings};
use crate::domain::{AuditAction, Order, PrintKind, PrintState, Waybill};
use crate::store::{Actor, NewPrintJob, PrintJobRecord, Store};

use super::OpsError;

/// A drawn label.
#[derive(Debug, Clone, Serialize)]
pub struct LabelDoc {
    pub order_no: String,
    pub waybill: String,
    pub reprint: bool,
    pub media: String,
    #[serde(skip)]
    pub pdf: Vec<u8>,
}

/// The waybill the label carries: the given one (an SF number, matching the order's if it has one)
/// or the order's outbound waybill.
fn label_waybill(order: &Order, given: Option<&str>) -> Result<Waybill, OpsError> {
    let no = &order.order_no;
    match (given, &order.outbound_waybill) {
        (Some(raw), recorded) => {
            let w = Waybill::parse(raw).map_err(|e| OpsError::Invalid(e.to_string()))?;
            match recorded {
                Some(r) if *r != w => {
                    Err(OpsError::Invalid(format!("订单 {no} 的回寄运单是 {r}，不能打印 {w} 的面单")))
                }
                _ => Ok(w),
            }
        }
        (None, Some(w)) => Ok(w.clone()),
        (None, None) => Err(OpsError::Invalid(format!(
            "订单 {no} 还没有回寄运单号：请用 --waybill SF… 指定（打印面单不会分配新运单）"
        ))),
    }
}

/// Whether a label was printed (or is queued to print) for the order before.
pub async fn printed_before(store: &dyn Store, order_id: i64) -> Result<bool, OpsError> {
    Ok(store
        .print_jobs_for_order(order_id)
        .await?
        .iter()
        .any(|j| j.kind == PrintKind::Label && j.state != PrintState::Failed))
}

/// Draws the order's label. The glyph check refuses a character the font lacks.
pub async fn build_label(
    store: &dyn Store,
    font: &DocFont,
    settings: &LabelSettings,
    order: &Order,
    waybill: Option<&str>,
    at: DateTime<Utc>,
) -> Result<LabelDoc, OpsError> {
    let waybill = label_waybill(order, waybill)?;
    let reprint = printed_before(store, order.id).await?;
    // SF's route code and QR, when the return shipment was booked with SF.
    let route = super::book::route_of(store, order.id).await?;
    let ship = &order.ship_to;
    let data = LabelData {
        waybill: waybill.as_str().to_string(),
        order_no: order.order_no.to_string(),
        recipient: LabelRecipient {
            name: ship.name.clone(),
            phone: ship.phone.clone(),
            region: ship.region.clone(),
            address: ship.address.clone(),
        },
        pieces: 1,
        printed_at: at.with_timezone(&crate::sla::SHANGHAI),
        route_code: route.as_ref().map(|r| r.dest_route_label.clone()).filter(|c| !c.is_empty()),
        qr_code: route.as_ref().map(|r| r.two_dimension_code.clone()).filter(|c| !c.is_empty()),
        reprint,
        remark: None,
    };
    let pdf = render_label(font, settings, &data)?;
    Ok(LabelDoc {
        order_no: order.order_no.to_string(),
        waybill: data.waybill,
        reprint,
        media: settings.size.ipp_media().to_string(),
        pdf,
    })
}

/// Queues a drawn label on the label printer (a reprint gets its audit row).
pub async fn enqueue_label(
    store: &dyn Store,
    order: &Order,
    label: &LabelDoc,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<PrintJobRecord, OpsError> {
    let job = NewPrintJob {
        order_id: order.id,
        kind: PrintKind::Label,
        printer: PrintKind::Label.code().into(),
        name: format!("label-{}", label.waybill),
        pdf: label.pdf.clone(),
        media: Some(label.media.clone()),
        reprint: label.reprint,
    };
    let record = super::print::enqueue(store, &job, actor, at).await?;
    if label.reprint {
        store
            .note(Some(order.id), AuditAction::LabelReprint, &format!("补打面单 {}", label.waybill), actor, at)
            .await?;
    }
    Ok(record)
}
