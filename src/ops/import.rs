//! `keydesk import orders FILE.json`: the platform's export, a JSON array of orders, loaded all or
//! nothing. Every record is checked first; the first bad one aborts the file with its index and field
//! named. Importing an order again updates it (by order number) without duplicating it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::order::{Certificate, Handler, Hold, Inbound, InvoiceDetails, SealKind, ShipTo};
use crate::domain::{InvoiceStatus, Money, Order, OrderKind, OrderNo, Status, Waybill};

use crate::clock::Clock;
use crate::store::{Actor, ImportSummary, Store};

use super::OpsError;

/// One order as the platform exports it (snake_case). The optional `received_at`, `received_by`,
/// `outbound_waybill`, `shipped_at` and `hold` carry desk state, for demo data and for moving from an
/// earlier system.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRecord {
    pub order_no: String,
    #[serde(default)]
    pub platform_order_no: Option<String>,
    pub kind: String,
    pub term_years: u32,
    pub amount: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub paid_at: Option<DateTime<Utc>>,
    pub account: String,
    pub holder_name: String,
    pub company: String,
    pub contact_phone: String,
    pub key_serial: String,
    pub cert: ImportCert,
    pub handler: ImportHandler,
    pub inbound: ImportInbound,
    pub ship_to: ShipTo,
    #[serde(default)]
    pub invoice: Option<InvoiceDetails>,
    #[serde(default)]
    pub invoice_status: Option<String>,
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub received_by: Option<String>,
    #[serde(default)]
    pub outbound_waybill: Option<String>,
    #[serde(default)]
    pub shipped_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub hold: Option<ImportHold>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportCert {
    pub serial: String,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub seal: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportHandler {
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub docs_approved: bool,
    #[serde(default)]
    pub docs_approved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportInbound {
    pub carrier: String,
    #[serde(default)]
    pub waybill: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportHold {
    pub reason: String,
    pub resume_to: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("file is not a JSON array of orders: {0}")]
    NotAnArray(String),
    #[error("record {index}: {message}")]
    Record { index: usize, message: String },
    #[error("record {index} (order {order_no}): field `{field}`: {message}")]
    Field { index: usize, order_no: String, field: &'static str, message: String },
    #[error("records {first} and {second} have the same order number {order_no}")]
    Duplicate { first: usize, second: usize, order_no: String },
}

/// Parses and checks a whole export; nothing is returned unless every record is good. `at` stamps
/// the orders' `updated_at`.
pub fn parse_export(json: &str, at: DateTime<Utc>) -> Result<Vec<Order>, ImportError> {
    let values: Vec<serde_json::Value> =
        serde_json::from_str(json).map_err(|e| ImportError::NotAnArray(e.to_string()))?;
    let mut orders: Vec<Order> = Vec::with_capacity(values.len());
    let mut seen = std::collections::HashMap::new();
    for (index, value) in values.into_iter().enumerate() {
        let record: ImportRecord =
            serde_json::from_value(value).map_err(|e| ImportError::Record { index, message: e.to_string() })?;
        let order = record.into_order(index, at)?;
        if let Some(first) = seen.insert(order.order_no.clone(), index) {
            return Err(ImportError::Duplicate { first, second: index, order_no: order.order_no.to_string() });
        }
        orders.push(order);
    }
    Ok(orders)
}

impl ImportRecord {
    pub fn into_order(self, index: usize, at: DateTime<Utc>) -> Result<Order, ImportError> {
        let no = self.order_no.clone();
        let field =
            |field: &'static str, message: String| ImportError::Field { index, order_no: no.clone(), field, message };
        let order_no = OrderNo::parse(&self.order_no).map_err(|e| field("order_no", e.to_string()))?;
        let kind = OrderKind::from_code(&self.kind)
            .ok_or_else(|| field("kind", format!("{:?} is not mail_back or self_service", self.kind)))?;
        if !(1..=10).contains(&self.term_years) {
            return Err(field("term_years", format!("{} is not between 1 and 10", self.term_years)));
        }
        let amount = Money::parse(&self.amount).map_err(|e| field("amount", e.to_string()))?;
        if amount < Money::ZERO {
            return Err(field("amount", "must not be negative".into()));
        }
        let status: Status = self.status.parse().map_err(|e: String| field("status", e))?;
        let hold = match (&self.hold, status) {
            (Some(h), Status::OnHold) => Some(Hold {
                reason: h.reason.parse().map_err(|e: String| field("hold.reason", e))?,
                resume_to: h.resume_to.parse().map_err(|e: String| field("hold.resume_to", e))?,
                note: h.note.clone(),
            }),
            (None, Status::OnHold) => {
                return Err(field("hold", "an on_hold order needs hold {reason, resume_to}".into()))
            }
            (Some(_), _) => return Err(field("hold", "only an on_hold order has a hold".into())),
            (None, _) => None,
        };
        if self.paid_at.is_none() && !matches!(status, Status::Unpaid | Status::Cancelled | Status::OnHold) {
            return Err(field("paid_at", format!("a {} order must have been paid", status.code())));
        }
        if self.paid_at.is_some() && status == Status::Unpaid {
            return Err(field("paid_at", "an unpaid order has no payment time".into()));
        }
        if self.cert.not_after <= self.cert.not_before {
            return Err(field("cert.not_after", "is not after cert.not_before".into()));
        }
        let seal = SealKind::from_code(&self.cert.seal)
            .ok_or_else(|| field("cert.seal", format!("{:?} is not single or dual", self.cert.seal)))?;
        for (name, value) in [
            ("account", &self.account),
            ("holder_name", &self.holder_name),
            ("company", &self.company),
            ("contact_phone", &self.contact_phone),
            ("key_serial", &self.key_serial),
            ("cert.serial", &self.cert.serial),
            ("cert.subject", &self.cert.subject),
            ("ship_to.name", &self.ship_to.name),
            ("ship_to.address", &self.ship_to.address),
        ] {
            if value.trim().is_empty() {
                return Err(field(name, "must not be empty".into()));
            }
        }
        if crate::domain::mask::phone_tail(&self.contact_phone).is_empty() {
            return Err(field("contact_phone", "needs at least four digits".into()));
        }
        let outbound_waybill = match &self.outbound_waybill {
            Some(w) => Some(Waybill::parse(w).map_err(|e| field("outbound_waybill", e.to_string()))?),
            None => None,
        };
        let invoice_status = match &self.invoice_status {
            Some(code) => InvoiceStatus::from_code(code)
                .ok_or_else(|| field("invoice_status", format!("{code:?} is not not_requested, pending or issued")))?,
            None if self.invoice.is_some() => InvoiceStatus::Pending,
            None => InvoiceStatus::NotRequested,
        };
        let docs_approved_at = match (self.handler.docs_approved, self.handler.docs_approved_at) {
            (true, Some(t)) => Some(t),
            (true, None) => self.paid_at.or(Some(self.created_at)),
            (false, _) => None,
        };
        Ok(Order {
            id: 0,
            version: 1,
            order_no,
            platform_order_no: self
                .platform_order_no
                .map(|p| crate::domain::scan_text::canonical_identifier(&p))
                .filter(|p| !p.is_empty()),
            kind,
            term_years: self.term_years,
            amount,
            status,
            hold,
            invoice_status,
            created_at: self.created_at,
            paid_at: self.paid_at,
            docs_approved_at,
            account: self.account.trim().to_string(),
            holder_name: self.holder_name.trim().to_string(),
            company: self.company.trim().to_string(),
            contact_phone: self.contact_phone.trim().to_string(),
            key_serial: crate::domain::KeySerial::new(&self.key_serial),
            cert: Certificate {
                serial: self.cert.serial.trim().to_string(),
                subject: self.cert.subject,
                not_before: self.cert.not_before,
                not_after: self.cert.not_after,
                seal,
            },
            handler: Handler {
                name: self.handler.name,
                phone: self.handler.phone,
                id_number: self.handler.id_number,
                docs_approved: self.handler.docs_approved,
            },
            inbound: Inbound {
                carrier: self.inbound.carrier,
                waybill: self.inbound.waybill.filter(|w| !w.trim().is_empty()),
            },
            ship_to: self.ship_to,
            invoice: self.invoice.unwrap_or_default(),
            received_at: self.received_at,
            received_by: self.received_by,
            outbound_waybill,
            shipped_at: self.shipped_at,
            picked_up_at: None,
            delivered_at: None,
            updated_at: at,
        })
    }
}

/// Imports a whole export in one transaction.
pub async fn import_orders(
    store: &dyn Store,
    json: &str,
    actor: &Actor,
    clock: &Clock,
) -> Result<ImportSummary, OpsError> {
    let at = clock.now();
    let orders = parse_export(json, at).map_err(|e| OpsError::Invalid(e.to_string()))?;
    Ok(store.import_orders(&orders, actor, at).await?)
}
