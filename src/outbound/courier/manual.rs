//! The `manual` courier: keydesk books nothing. Staff stick a pre-printed SF label on the parcel and
//! scan (or type) its waybill, which the desk parses with the domain's waybill rules and records.

use super::{Booking, Courier, CourierError, ShipmentRequest};

/// Books nothing: every shipment needs a scanned waybill.
#[derive(Debug, Clone, Copy, Default)]
pub struct ManualCourier;

impl Courier for ManualCourier {
    fn book(&self, _request: &ShipmentRequest) -> Result<Booking, CourierError> {
        Ok(Booking::NeedsScannedWaybill)
    }

    fn describe(&self) -> String {
        "manual waybills (scan the pre-printed SF label)".to_string()
    }

    fn queries_routes(&self) -> bool {
        false
    }

    fn routes(
        &self,
        _waybill: &str,
        _phone_tail: &str,
    ) -> Result<(Vec<crate::domain::route::RouteEvent>, String), CourierError> {
        Err(CourierError::NotConfigured("manual waybills: SF's route query needs courier.backend = \"sf\"".into()))
    }
}
