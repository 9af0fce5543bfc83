//! Booking the return shipment with the configured courier (`courier.backend`): with `sf`, SF's open
//! platform creates the order (idempotent by our order number) and returns the waybill and its routing
//! data, which are recorded on the order before any label is drawn; with `manual`, staff scan the
//! waybill SF's own client printed. A booked order is never booked again.

use serde::{Deserialize, Serialize};

use crate::domain::{Order, Status, Waybill};
use crate::outbound::courier::{Booking, Contact, RouteLabel, ShipmentRequest};
use crate::services::Services;
use crate::store::{Actor, BookedShipment, Store};

use super::OpsError;

/// SF's routing data as kept on the order, for the label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteData {
    pub dest_route_label: String,
    pub two_dimension_code: String,
    pub product_name: String,
}

impl From<RouteLabel> for RouteData {
    fn from(r: RouteLabel) -> Self {
        RouteData {
            dest_route_label: r.dest_route_label,
            two_dimension_code: r.two_dimension_code,
            product_name: r.product_name,
        }
    }
}

/// What booking gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Booked {
    /// The courier returned (now or before) this waybill.
    Waybill(Waybill),
    /// The manual backend: staff scan the waybill of SF's pre-printed label.
    ScanNeeded,
}

fn shipment_request(label: &crate::docs::LabelSettings, order: &Order) -> ShipmentRequest {
    ShipmentRequest {
        order_id: order.order_no.to_string(),
        sender: Contact {
            name: label.sender_name.clone(),
            phone: label.sender_phone.clone(),
            address: label.sender_address.clone(),
            company: String::new(),
        },
        recipient: Contact {
            name: order.ship_to.name.clone(),
            phone: order.ship_to.phone.clone(),
            address: format!("{}{}", order.ship_to.region, order.ship_to.address),
            company: order.company.clone(),
        },
        cargo: label.contents.clone(),
        pieces: 1,
        remark: format!("订单 {}", order.order_no),
    }
}

/// Books the order's return shipment once; a second call returns the recorded waybill.
pub async fn book_return(services: &Services, order: &Order, actor: &Actor) -> Result<Booked, OpsError> {
    if let Some(w) = &order.outbound_waybill {
        return Ok(Booked::Waybill(w.clone()));
    }
    if order.status != Status::Renewed {
        return Err(OpsError::Invalid(format!("订单状态为「{}」，续签完成后才能下单寄回", order.status.label())));
    }
    let courier = services.courier.clone().map_err(|e| OpsError::Invalid(format!("顺丰下单失败：{e}")))?;
    let request = shipment_request(&services.documents.label, order);
    // The courier clients block (HTTP): they run off the async workers.
    let booking = tokio::task::spawn_blocking(move || courier.book(&request))
        .await
        .map_err(|e| OpsError::Invalid(format!("顺丰下单中断：{e}")))?
        .map_err(|e| OpsError::Invalid(format!("顺丰下单失败：{e}")))?;
    let shipment = match booking {
        Booking::NeedsScannedWaybill => return Ok(Booked::ScanNeeded),
        Booking::Booked(s) => s,
    };
    let waybill =
        Waybill::parse(&shipment.waybill).map_err(|e| OpsError::Invalid(format!("顺丰返回的运单号无效：{e}")))?;
    let route_json = shipment.route.map(RouteData::from).and_then(|r| serde_json::to_string(&r).ok());
    let booked = BookedShipment {
        order_id: order.id,
        order_no: order.order_no.clone(),
        expected_version: order.version,
        status: order.status,
        waybill: waybill.clone(),
        route_json,
    };
    services.store().record_booking(&booked, actor, services.clock.now()).await?;
    Ok(Booked::Waybill(waybill))
}

/// The routing data recorded for the order's return shipment.
pub async fn route_of(store: &dyn Store, order_id: i64) -> Result<Option<RouteData>, OpsError> {
    Ok(store.outbound_route(order_id).await?.and_then(|json| serde_json::from_str(&json).ok()))
}

/// 发货 with the configured courier: the scanned waybill when one is given, else the one booked with
/// the courier (booked now if need be). The manual backend needs a scanned waybill.
pub async fn ship_with_courier(
    services: &Services,
    no: &crate::domain::OrderNo,
    scanned: Option<&str>,
    actor: &Actor,
) -> Result<super::ship::Shipped, OpsError> {
    let store = services.store();
    let waybill = match scanned.map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => raw.to_string(),
        None => {
            let order = store.order_by_no(no).await?.ok_or_else(|| OpsError::OrderNotFound(no.to_string()))?;
            match book_return(services, &order, actor).await? {
                Booked::Waybill(w) => w.to_string(),
                Booked::ScanNeeded => {
                    return Err(OpsError::Invalid(
                        "请扫描顺丰客户端打印的寄回运单（courier.backend = \"manual\"）".into(),
                    ));
                }
            }
        }
    };
    super::ship::ship(store, no, &waybill, actor, &services.clock).await
}
