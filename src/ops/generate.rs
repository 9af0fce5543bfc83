//! `keydesk fixtures generate`: fills the database with synthetic orders in batches, reporting
//! progress, so a million orders load in well under two minutes and never sit in memory at once.

use std::ops::Range;

use crate::domain::Order;
use chrono::{DateTime, Utc};

use crate::store::Store;

use super::OpsError;

/// Orders written per transaction.
pub const BATCH: u64 = 10_000;

/// Inserts the synthetic orders with indexes in `range` for `seed`, made as of `at`; calls
/// `progress(done, total)`.
pub async fn generate(
    store: &dyn Store,
    seed: u64,
    range: Range<u64>,
    at: DateTime<Utc>,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, OpsError> {
    let total = range.end.saturating_sub(range.start);
    let mut next = range.start;
    while next < range.end {
        let end = (next + BATCH).min(range.end);
        let batch: Vec<Order> = (next..end).map(|i| crate::synthetic::order(seed, i, at)).collect();
        store.bulk_insert_orders(&batch).await?;
        next = end;
        progress(next - range.start, total);
    }
    Ok(total)
}
