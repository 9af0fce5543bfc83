//! [`OrderStore`] on PostgreSQL, and the writes every aggregate's transactions share: the audit row and
//! the checked status change.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder};

use super::PgStore;
use crate::domain::{AuditAction, Order, OrderNo, Status, Waybill};
use crate::store::orders::{self as sql, AuditRecord, ClockQueries, SearchTerms};
use crate::store::rows::{self, AuditRow, ClockOrderRow, OrderRow, ReceiptRow, UnmatchedRow};
use crate::store::{
    Actor, AuditEntry, BookedShipment, ClockFacts, ClockScope, ImportSummary, ListQuery, OrderStore, ParcelReceipt,
    PlannedChange, Receipt, StoreError, StoreResult, UnmatchedParcel,
};

/// Writes one audit row. Every write of the store goes through here.
pub(super) async fn insert_audit(
    conn: &mut PgConnection,
    record: &AuditRecord<'_>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sql::bind_audit(sqlx::query(sql::INSERT_AUDIT), record, actor, at)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    // The change announces itself to the member in the same transaction (the outbox, migration 0011).
    let event = record.order_id.zip(crate::domain::notice::event_for_audit(
        record.action,
        record.from,
        record.to,
        record.hold_reason,
        at,
    ));
    if let Some((order_id, event)) = event {
        super::notices::enqueue(conn, order_id, &event, at).await?;
    }
    Ok(())
}

/// Writes one planned change and its audit row inside a transaction, checking the version.
pub(super) async fn write_change(
    conn: &mut PgConnection,
    change: &PlannedChange,
    actor: &Actor,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let done = sql::bind_status_update(sqlx::query(sql::UPDATE_STATUS), change, at)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict { order_no: change.order_no.to_string() });
    }
    insert_audit(conn, &AuditRecord::of_change(change), actor, at).await
}

impl PgStore {
    /// The orders with these ids, in this order; each must exist.
    pub(super) async fn orders_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Order>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let order = self.order_by_id(*id).await?.ok_or_else(|| StoreError::NotFound(format!("id {id}")))?;
            out.push(order);
        }
        Ok(out)
    }

    /// The order with this id, which must exist.
    pub(super) async fn existing_order(&self, id: i64) -> StoreResult<Order> {
        Ok(self.orders_by_ids(&[id]).await?.remove(0))
    }

    async fn fetch_orders(&self, sql: &str, key: &str) -> StoreResult<Vec<Order>> {
        let rows =
            sqlx::query_as::<_, OrderRow>(sql).bind(key).fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        rows.into_iter().map(Order::try_from).collect()
    }
}

#[async_trait]
impl OrderStore for PgStore {
    async fn import_orders(&self, orders: &[Order], actor: &Actor, at: DateTime<Utc>) -> StoreResult<ImportSummary> {
        for o in orders {
            rows::fen(o.amount)?;
        }
        let mut summary = ImportSummary::default();
        let mut tx = self.begin_write().await?;
        for o in orders {
            let existing: Option<(i64, String)> = sqlx::query_as(sql::SELECT_IMPORTED)
                .bind(o.order_no.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
            let (id, from, to) = match existing {
                None => {
                    let mut qb = QueryBuilder::<Postgres>::new(sql::INSERT_ORDERS.as_str());
                    qb.push_values(std::iter::once(o), |mut b, o| rows::push_order(&mut b, o));
                    qb.push(" RETURNING id");
                    let id: i64 = qb.build_query_scalar().fetch_one(&mut *tx).await.map_err(StoreError::from_sqlx)?;
                    summary.inserted += 1;
                    (id, None, o.status)
                }
                Some((id, old)) => {
                    let old_status = Status::from_code(&old)
                        .ok_or_else(|| StoreError::Corrupt(format!("order {}: bad status {old:?}", o.order_no)))?;
                    let status = sql::imported_status(old_status, o.status);
                    sql::bind_imported_order(sqlx::query(sql::UPDATE_IMPORTED_ORDER), id, o, status, at)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    summary.updated += 1;
                    (id, Some(old_status), status)
                }
            };
            if from != Some(to) {
                insert_audit(&mut tx, &AuditRecord::of_import(id, from, to, o), actor, at).await?;
            }
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(summary)
    }

    async fn bulk_insert_orders(&self, orders: &[Order]) -> StoreResult<u64> {
        for o in orders {
            rows::fen(o.amount)?;
        }
        let mut tx = self.begin_write().await?;
        let mut inserted = 0;
        for chunk in orders.chunks(500) {
            let mut qb = QueryBuilder::<Postgres>::new(sql::INSERT_ORDERS.as_str());
            qb.push_values(chunk, |mut b, o| rows::push_order(&mut b, o));
            inserted += qb.build().execute(&mut *tx).await.map_err(StoreError::from_sqlx)?.rows_affected();
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(inserted)
    }

    async fn order_by_no(&self, no: &OrderNo) -> StoreResult<Option<Order>> {
        Ok(self.fetch_orders(&sql::ORDER_BY_NO, no.as_str()).await?.pop())
    }

    async fn order_by_id(&self, id: i64) -> StoreResult<Option<Order>> {
        let row = sqlx::query_as::<_, OrderRow>(&sql::ORDER_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.map(Order::try_from).transpose()
    }

    async fn orders_by_inbound_waybill(&self, waybill: &Waybill) -> StoreResult<Vec<Order>> {
        self.fetch_orders(&sql::ORDERS_BY_INBOUND_WAYBILL, waybill.as_str()).await
    }

    async fn list_orders(&self, query: &ListQuery) -> StoreResult<Vec<Order>> {
        let rows = sqlx::query_as::<_, OrderRow>(&sql::LIST_ORDERS)
            .bind(query.status.map(|s| s.code()))
            .bind(query.after_id)
            .bind(query.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        rows.into_iter().map(Order::try_from).collect()
    }

    async fn search_orders(&self, text: &str, limit: i64) -> StoreResult<Vec<Order>> {
        let Some(terms) = SearchTerms::new(text) else { return Ok(Vec::new()) };
        let mut rows = sqlx::query_as::<_, OrderRow>(&sql::SEARCH_ORDERS)
            .bind(terms.canonical.as_str())
            .bind(terms.raw)
            .bind(terms.upper_bound.as_str())
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        if rows.is_empty() {
            if let Some(pattern) = terms.company_pattern() {
                rows = sqlx::query_as::<_, OrderRow>(&sql::SEARCH_ORDERS_BY_COMPANY)
                    .bind(pattern)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::from_sqlx)?;
            }
        }
        rows.into_iter().map(Order::try_from).collect()
    }

    async fn count_orders(&self) -> StoreResult<i64> {
        sqlx::query_scalar(sql::COUNT_ORDERS).fetch_one(&self.pool).await.map_err(StoreError::from_sqlx)
    }

    async fn apply_change(&self, change: &PlannedChange, actor: &Actor, at: DateTime<Utc>) -> StoreResult<Order> {
        let mut tx = self.begin_write().await?;
        write_change(&mut tx, change, actor, at).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        self.existing_order(change.order_id).await
    }

    async fn receive_parcel(&self, parcel: &ParcelReceipt, actor: &Actor) -> StoreResult<Vec<Order>> {
        let mut tx = self.begin_write().await?;
        for change in &parcel.changes {
            write_change(&mut tx, change, actor, parcel.at).await?;
            sqlx::query(sql::INSERT_RECEIPT)
                .bind(change.order_id)
                .bind(parcel.waybill.as_str())
                .bind(parcel.at)
                .bind(actor.operator.as_str())
                .bind(actor.desk.as_str())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
        }
        // The same parcel scanned before its order was known waited as unmatched: it is matched now.
        if let Some(first) = parcel.changes.first() {
            sqlx::query(sql::RESOLVE_UNMATCHED_PARCELS)
                .bind(parcel.at)
                .bind(first.order_id)
                .bind(parcel.waybill.as_str())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        let ids: Vec<i64> = parcel.changes.iter().map(|c| c.order_id).collect();
        self.orders_by_ids(&ids).await
    }

    async fn record_unmatched_parcel(
        &self,
        raw_scan: &str,
        waybill: &Waybill,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(sql::INSERT_UNMATCHED_PARCEL)
            .bind(raw_scan)
            .bind(waybill.as_str())
            .bind(at)
            .bind(actor.operator.as_str())
            .bind(actor.desk.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        let reason = sql::unmatched_reason(waybill);
        let audit = AuditRecord::new(None, AuditAction::UnmatchedParcel, None, None, &reason);
        insert_audit(&mut tx, &audit, actor, at).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(id)
    }

    async fn unmatched_parcels(&self) -> StoreResult<Vec<UnmatchedParcel>> {
        let rows: Vec<UnmatchedRow> =
            sqlx::query_as(sql::SELECT_UNMATCHED_PARCELS).fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn receipts_for_order(&self, order_id: i64) -> StoreResult<Vec<Receipt>> {
        Ok(self
            .rows_by_key::<ReceiptRow, _>(sql::SELECT_RECEIPTS_FOR_ORDER, order_id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    async fn audit_for_order(&self, order_id: i64) -> StoreResult<Vec<AuditEntry>> {
        self.rows_by_key::<AuditRow, _>(sql::SELECT_AUDIT_FOR_ORDER, order_id)
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    async fn note(
        &self,
        order_id: Option<i64>,
        action: AuditAction,
        reason: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        insert_audit(&mut conn, &AuditRecord::new(order_id, action, None, None, reason), actor, at).await
    }

    async fn record_booking(&self, b: &BookedShipment, actor: &Actor, at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(sql::UPDATE_BOOKING)
            .bind(b.waybill.as_str())
            .bind(b.route_json.as_deref())
            .bind(at)
            .bind(b.order_id)
            .bind(b.expected_version)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict { order_no: b.order_no.to_string() });
        }
        let reason = sql::booking_reason(b);
        let audit = AuditRecord {
            order_id: Some(b.order_id),
            action: AuditAction::Book,
            from: Some(b.status),
            to: Some(b.status),
            reason: &reason,
            hold_reason: None,
        };
        insert_audit(&mut tx, &audit, actor, at).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)
    }

    async fn outbound_route(&self, order_id: i64) -> StoreResult<Option<String>> {
        let route: Option<Option<String>> = sqlx::query_scalar(sql::SELECT_OUTBOUND_ROUTE)
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(route.flatten())
    }

    async fn clock_facts(&self, scope: ClockScope) -> StoreResult<Vec<ClockFacts>> {
        let queries = ClockQueries::new(scope);
        let mut orders_q = sqlx::query_as::<_, ClockOrderRow>(&queries.orders);
        let mut events_q = sqlx::query_as::<_, AuditRow>(&queries.events);
        for time in &queries.times {
            orders_q = orders_q.bind(*time);
            events_q = events_q.bind(*time);
        }
        for code in &queries.orders_codes {
            orders_q = orders_q.bind(*code);
        }
        for code in &queries.events_codes {
            events_q = events_q.bind(*code);
        }
        if let Some((after, limit)) = queries.page {
            orders_q = orders_q.bind(after).bind(limit);
        }
        let orders = orders_q.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        if let Some((after, _)) = queries.page {
            events_q = events_q.bind(after).bind(orders.last().map_or(after, |o| o.id));
        }
        let events = events_q.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        rows::clock_facts(orders, events)
    }
}
