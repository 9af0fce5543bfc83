//! [`RouteStore`] on SQLite: one transaction per batch (see `store::routes`), the delivery notice in it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::notices::enqueue;
use super::SqliteStore;
use crate::domain::notice::{NoticeEvent, NoticeKind};
use crate::domain::route::{RouteEvent, OP_DELIVERED, OP_PICKED_UP};
use crate::store::routes::{
    latest_arrivals, stored_route, tracked, InboundRoute, RouteOutcome, RouteRow, RouteSource, RouteStore, StoredRoute,
    TrackedWaybill, COUNT_ROUTES, INSERT_ROUTE, ORDER_OF_WAYBILL, SELECT_DELIVERED_UNCONFIRMED,
    SELECT_INBOUND_ARRIVALS, SELECT_ROUTES_OF_WAYBILL, SELECT_TRACKED, SET_DELIVERED, SET_PICKED_UP,
};
use crate::store::{StoreError, StoreResult};

#[async_trait]
impl RouteStore for SqliteStore {
    async fn record_routes(
        &self,
        events: &[RouteEvent],
        raw: &str,
        source: RouteSource,
        at: DateTime<Utc>,
    ) -> StoreResult<RouteOutcome> {
        let mut tx = self.begin_write().await?;
        let mut outcome = RouteOutcome::default();
        for event in events {
            let order: Option<(i64, String, String)> = sqlx::query_as(ORDER_OF_WAYBILL)
                .bind(event.waybill.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
            let inserted: Option<i64> = sqlx::query_scalar(INSERT_ROUTE)
                .bind(&event.route_id)
                .bind(event.waybill.as_str())
                .bind(&event.op_code)
                .bind(event.accept_time)
                .bind(&event.accept_address)
                .bind(&event.remark)
                .bind(&event.reason_code)
                .bind(&event.sf_order_id)
                .bind(order.as_ref().map(|(_, _, d)| d.as_str()))
                .bind(order.as_ref().map(|(id, _, _)| *id))
                .bind(source.code())
                .bind(raw)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
            if inserted.is_none() {
                outcome.duplicates += 1;
                continue;
            }
            outcome.stored += 1;
            let Some((order_id, order_no, direction)) = order else {
                outcome.unmatched += 1;
                continue;
            };
            if direction != "outbound" {
                continue;
            }
            let (sql, list) = match event.op_code.as_str() {
                OP_PICKED_UP => (SET_PICKED_UP, &mut outcome.picked_up),
                OP_DELIVERED => (SET_DELIVERED, &mut outcome.delivered),
                _ => continue,
            };
            let moved = sqlx::query(sql)
                .bind(event.accept_time)
                .bind(order_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?
                .rows_affected();
            if moved > 0 && event.op_code == OP_DELIVERED {
                // The member's 已签收，请确认收货, in this transaction (once per order: the outbox is
                // unique by order, event and channel, so a delivery moved earlier adds nothing).
                enqueue(&mut tx, order_id, &NoticeEvent::once(NoticeKind::Delivered), at).await?;
            }
            if moved > 0 && !list.contains(&order_no) {
                list.push(order_no);
            }
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(outcome)
    }

    async fn routes_of_waybill(&self, waybill: &str) -> StoreResult<Vec<StoredRoute>> {
        let rows: Vec<RouteRow> = self.rows_by_key(SELECT_ROUTES_OF_WAYBILL, waybill.to_string()).await?;
        Ok(rows.into_iter().map(stored_route).collect())
    }

    async fn route_event_count(&self) -> StoreResult<i64> {
        sqlx::query_scalar(COUNT_ROUTES).fetch_one(&self.pool).await.map_err(StoreError::from_sqlx)
    }

    async fn inbound_arrivals(&self) -> StoreResult<Vec<InboundRoute>> {
        let rows: Vec<(String, String, String, DateTime<Utc>)> =
            sqlx::query_as(SELECT_INBOUND_ARRIVALS).fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        Ok(latest_arrivals(rows))
    }

    async fn tracked_waybills(&self) -> StoreResult<Vec<TrackedWaybill>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as(SELECT_TRACKED).fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        Ok(tracked(rows))
    }

    async fn delivered_unconfirmed(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(SELECT_DELIVERED_UNCONFIRMED)
            .bind(before)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }
}
