//! Courier backends that turn a shipment request into an SF waybill: `manual` (staff stick a
//! pre-printed SF label on the parcel and scan its waybill) and `sf` (SF's open platform books the
//! pickup and returns the waybill and its routing data for keydesk's own label).
//!
//! Booking is idempotent by our order id: asking twice returns the first waybill, so a crash between
//! booking and saving can simply ask again. Calls block; async callers use `spawn_blocking`.

pub mod manual;
pub mod sf;

use crate::domain::route::RouteEvent;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use manual::ManualCourier;
pub use sf::SfClient;

/// A secret string from the configuration: usable, serialisable, never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "Secret(<empty>)" } else { "Secret(***)" })
    }
}

/// Which courier backend books return shipments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CourierBackend {
    /// Staff scan or type the waybill of a pre-printed SF label.
    #[default]
    Manual,
    /// SF's open platform (丰桥) creates the order and returns waybill and routing data.
    Sf,
}

/// The courier part of the configuration (`[courier]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CourierSettings {
    /// `"manual"` (default) or `"sf"`.
    pub backend: CourierBackend,
    /// SF service endpoint (the sandbox by default; the production one once SF approves).
    pub sf_base_url: String,
    /// 顾客编码 (partnerID).
    pub partner_id: String,
    /// 校验码 (checkWord): signs every request. Never logged.
    pub check_word: Secret,
    /// 月结卡号 (monthlyCard) charged for return shipments.
    pub monthly_account: String,
    /// SF product: 1 顺丰特快, 2 顺丰标快 (default).
    pub express_type_id: u32,
    /// 1 寄方付 (default), 2 收方付, 3 第三方付.
    pub pay_method: u32,
    /// Cloud-print template; empty = `fm_150_standard_{partner_id}`.
    pub cloud_print_template: String,
    /// Seconds before an SF call counts as failed (retryable).
    pub timeout_secs: u64,
}

impl Default for CourierSettings {
    fn default() -> Self {
        Self {
            backend: CourierBackend::Manual,
            sf_base_url: "https://sfapi-sbox.sf-express.com/std/service".to_string(),
            partner_id: String::new(),
            check_word: Secret::default(),
            monthly_account: String::new(),
            express_type_id: 2,
            pay_method: 1,
            cloud_print_template: String::new(),
            timeout_secs: 20,
        }
    }
}

/// A person on a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contact {
    pub name: String,
    pub phone: String,
    /// Full address including province/city/district (SF derives the region from it).
    pub address: String,
    pub company: String,
}

/// What to ship: one parcel with the renewed key, back to the member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRequest {
    /// Our idempotency key at SF (`orderId`): the platform order number, plus a suffix for a
    /// deliberate second shipment.
    pub order_id: String,
    pub sender: Contact,
    pub recipient: Contact,
    /// 托寄物, e.g. CA数字证书 UKey.
    pub cargo: String,
    pub pieces: u32,
    pub remark: String,
}

/// SF's routing data for a label (from `routeLabelData`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteLabel {
    /// Big route code printed on the label (`destRouteLabel`).
    pub dest_route_label: String,
    /// QR payload (`twoDimensionCode`).
    pub two_dimension_code: String,
    /// Product name SF prints (`proName`), e.g. 顺丰标快.
    pub product_name: String,
}

/// A booked shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub waybill: String,
    pub origin_code: String,
    pub dest_code: String,
    /// Present when SF returned usable routing data.
    pub route: Option<RouteLabel>,
}

/// The answer of a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Booking {
    /// The courier returned a waybill.
    Booked(Shipment),
    /// Staff must take a pre-printed SF label and scan its waybill.
    NeedsScannedWaybill,
}

/// Why a booking (or a label download) did not work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CourierError {
    /// Network trouble or a timeout: try again (the order id keeps it idempotent).
    #[error("SF could not be reached: {0}")]
    Unreachable(String),
    /// SF's gateway refused the call (`apiResultCode` other than A1000).
    #[error("SF refused the request ({code}): {message}")]
    Gateway { code: String, message: String, retryable: bool },
    /// SF's service answered `success: false`.
    #[error("SF rejected the order ({code}): {message}")]
    Rejected { code: String, message: String },
    /// SF answered something keydesk does not understand.
    #[error("unexpected answer from SF: {0}")]
    Malformed(String),
    /// The configuration lacks what the call needs.
    #[error("courier not configured: {0}")]
    NotConfigured(String),
}

impl CourierError {
    /// Whether asking again later may work.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Gateway { retryable, .. } => *retryable,
            _ => false,
        }
    }
}

/// A courier backend.
pub trait Courier: Send + Sync {
    fn book(&self, request: &ShipmentRequest) -> Result<Booking, CourierError>;
    fn describe(&self) -> String;
    /// Whether [`Courier::routes`] can ask the courier at all (manual waybills: no).
    fn queries_routes(&self) -> bool;
    /// The route events SF knows for one waybill (`phone_tail`: the last four digits of the sender's
    /// or recipient's phone, which SF asks for on waybills the partner did not create), with the raw
    /// answer they came in.
    fn routes(&self, waybill: &str, phone_tail: &str) -> Result<(Vec<RouteEvent>, String), CourierError>;
}

/// Builds the configured backend.
pub fn courier_from_settings(settings: &CourierSettings) -> Result<Box<dyn Courier>, CourierError> {
    Ok(match settings.backend {
        CourierBackend::Manual => Box::new(ManualCourier),
        CourierBackend::Sf => Box::new(SfClient::new(settings)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_word_never_shows_in_debug() {
        let settings = CourierSettings { check_word: Secret::new("s3cr3t-check-word"), ..CourierSettings::default() };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("Secret(***)"));
        let parsed: CourierSettings = serde_json::from_str(r#"{"backend":"sf","check_word":"abc"}"#).expect("parse");
        assert_eq!(parsed.check_word.expose(), "abc");
        assert_eq!(parsed.express_type_id, 2);
        assert!(serde_json::from_str::<CourierSettings>(r#"{"checkword":"abc"}"#).is_err());
    }
}
