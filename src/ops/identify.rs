//! Which key is in the reader, and whose: the module's tokens behind a reader, each matched to its
//! order by the token's serial (the order's key编号) and the order's certificate on it. Used by
//! `keydesk reader watch` and by the desk's reader panel; reads public objects only, never a PIN.

use std::time::Duration;

use serde::Serialize;

use crate::domain::key_report::{PinFlags, TokenReport};
use crate::domain::renewal_job::{match_certificate, KeyMatch};
use crate::domain::{mask, KeySerial, Order};
use crate::store::{Store, StoreResult};
use crate::token::worker::{TokenWorker, WorkerProgram};

/// The orders whose key serial is this token's (as the token reports it: case and padding aside).
pub async fn orders_for_key(store: &dyn Store, serial: &str) -> StoreResult<Vec<Order>> {
    let serial = KeySerial::new(serial);
    Ok(store.search_orders(serial.as_str(), 20).await?.into_iter().filter(|o| o.key_serial == serial).collect())
}

/// A key and its order, ready for the screen (the holder's name masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentifiedKey {
    pub serial: String,
    pub label: String,
    pub pin: PinFlags,
    pub order_no: Option<String>,
    pub company: Option<String>,
    pub holder: Option<String>,
    pub status_label: Option<&'static str>,
    /// The order's certificate (serial and subject) is on the key.
    pub certificate_matches: bool,
}

fn identified(report: &TokenReport, orders: &[Order]) -> IdentifiedKey {
    let has_cert = |o: &Order| matches!(match_certificate(o, report, None), KeyMatch::OrderCertificate(..));
    let order = orders.iter().find(|o| has_cert(o)).or(orders.first());
    IdentifiedKey {
        serial: report.token.serial.clone(),
        label: report.token.label.clone(),
        pin: report.token.pin,
        order_no: order.map(|o| o.order_no.to_string()),
        company: order.map(|o| o.company.clone()),
        holder: order.map(|o| mask::name(&o.holder_name)),
        status_label: order.map(|o| o.status.label()),
        certificate_matches: order.is_some_and(has_cert),
    }
}

/// Identifies the keys behind a reader: the module's tokens whose slot names the reader (all tokens
/// when none does, as with SoftHSM), each matched to its order.
pub async fn identify(
    store: &dyn Store,
    worker: &WorkerProgram,
    module: &str,
    timeout: Duration,
    reader_name: &str,
) -> Result<Vec<IdentifiedKey>, String> {
    let mut worker = TokenWorker::spawn(worker, module, timeout).await.map_err(|e| e.to_string())?;
    let result = async {
        let tokens = worker.tokens().await.map_err(|e| e.to_string())?;
        let for_reader: Vec<_> = tokens
            .iter()
            .filter(|t| !reader_name.is_empty() && t.slot_description.contains(reader_name))
            .cloned()
            .collect();
        let chosen = if for_reader.is_empty() { tokens } else { for_reader };
        let mut out = Vec::new();
        for t in chosen {
            let report = worker.inspect(&t.serial).await.map_err(|e| e.to_string())?;
            let orders = orders_for_key(store, &t.serial).await.map_err(|e| e.to_string())?;
            out.push(identified(&report, &orders));
        }
        Ok(out)
    }
    .await;
    worker.close().await;
    result
}
