//! The body of the store, written once and instantiated for each backend by `sql_store!`: the SQL text
//! is shared, while each backend keeps its own pool type, its own migrations and its own way of
//! starting a write transaction (SQLite takes the write lock up front with `BEGIN IMMEDIATE`;
//! PostgreSQL relies on row-level version checks under READ COMMITTED).

macro_rules! sql_store {
    ($store:ty, $db:ty, $backend:expr, $begin_write:expr, $migrator:expr) => {
        impl $store {
            async fn begin_write(&self) -> $crate::store::StoreResult<sqlx::Transaction<'static, $db>> {
                self.pool.begin_with($begin_write).await.map_err($crate::store::StoreError::from_sqlx)
            }

            /// Member actions write through their own pool: on a member SQLite store the main pool is read-only.
            async fn begin_member_write(&self) -> $crate::store::StoreResult<sqlx::Transaction<'static, $db>> {
                self.member_writer.begin_with($begin_write).await.map_err($crate::store::StoreError::from_sqlx)
            }

            async fn fetch_orders(
                &self,
                sql: &str,
                binds: &[&str],
            ) -> $crate::store::StoreResult<Vec<$crate::domain::Order>> {
                let mut q = sqlx::query_as::<_, $crate::store::rows::OrderRow>(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                let rows = q.fetch_all(&self.pool).await.map_err($crate::store::StoreError::from_sqlx)?;
                rows.into_iter().map($crate::domain::Order::try_from).collect()
            }

            /// Writes one audit row: who (`actor`) did `action` to the order (if any) at `at`, from and to
            /// which status, and why. Every write of the store goes through here.
            #[allow(clippy::too_many_arguments)]
            async fn insert_audit(
                conn: &mut <$db as sqlx::Database>::Connection,
                order_id: Option<i64>,
                at: chrono::DateTime<chrono::Utc>,
                actor: &$crate::store::Actor,
                action: &str,
                from: Option<&str>,
                to: Option<&str>,
                reason: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query($crate::store::rows::INSERT_AUDIT)
                    .bind(order_id)
                    .bind(at)
                    .bind(actor.operator.as_str())
                    .bind(actor.desk.as_str())
                    .bind(action)
                    .bind(from)
                    .bind(to)
                    .bind(reason)
                    .execute(conn)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(())
            }

            /// Writes one planned change and its audit row inside `tx`, checking the version.
            async fn write_change(
                tx: &mut sqlx::Transaction<'static, $db>,
                change: &$crate::store::PlannedChange,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                let t = &change.transition;
                let hold = t.hold.as_ref();
                let (received_at, received_by) = match &change.stamps.received {
                    Some((when, who)) => (Some(*when), Some(who.clone())),
                    None => (None, None),
                };
                let done = sqlx::query($crate::store::rows::UPDATE_STATUS)
                    .bind(t.to.code())
                    .bind(hold.map(|h| h.reason.code()))
                    .bind(hold.map(|h| h.resume_to.code()))
                    .bind(hold.map(|h| h.note.clone()))
                    .bind(received_at)
                    .bind(received_by)
                    .bind(change.stamps.outbound_waybill.as_ref().map(|w| w.as_str().to_string()))
                    .bind(change.stamps.shipped_at)
                    .bind(at)
                    .bind(change.order_id)
                    .bind(change.expected_version)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict { order_no: change.order_no.to_string() });
                }
                Self::insert_audit(&mut **tx, Some(change.order_id), at, actor, change.action, Some(t.from.code()), Some(t.to.code()), t.reason.as_str()).await?;
                Ok(())
            }

            async fn renewal_job(&self, id: i64) -> $crate::store::StoreResult<$crate::domain::renewal_job::RenewalJob> {
                let sql = format!("{} WHERE id = $1", $crate::store::rows::SELECT_RENEWAL_JOB);
                let row: $crate::store::rows::RenewalJobRow = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                row.try_into()
            }

            /// Moves a running job to `step` and writes the step's journal row inside `tx`.
            async fn write_step(
                tx: &mut sqlx::Transaction<'static, $db>,
                job_id: i64,
                step: $crate::domain::renewal_job::RenewalStep,
                result: &$crate::domain::renewal_job::StepResult,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                let done = sqlx::query(
                    "UPDATE renewal_jobs SET step = $1, public_key = COALESCE($2, public_key), \
                     request_pem = COALESCE($3, request_pem), updated_at = $4 WHERE id = $5 AND state = 'running'",
                )
                .bind(step.code())
                .bind(result.public_key.clone())
                .bind(result.request_pem.clone())
                .bind(at)
                .bind(job_id)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::from_sqlx)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict { order_no: format!("renewal job {job_id}") });
                }
                sqlx::query($crate::store::rows::INSERT_JOURNAL)
                    .bind(job_id)
                    .bind(step.code())
                    .bind($crate::domain::renewal_job::Phase::Done.code())
                    .bind(result.detail.as_str())
                    .bind(result.elapsed_us)
                    .bind(result.token_us)
                    .bind(at)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                Ok(())
            }

            /// The rows one query returns for one key (an order's receipts, a job's journal, the print jobs
            /// due at a time, …), as domain values.
            async fn all_by_key<R, T, K>(&self, sql: &str, key: K) -> $crate::store::StoreResult<Vec<T>>
            where
                R: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin + Into<T>,
                K: for<'q> sqlx::Encode<'q, $db> + sqlx::Type<$db> + Send + 'static,
            {
                let rows: Vec<R> = sqlx::query_as(sql).bind(key).fetch_all(&self.pool).await.map_err($crate::store::StoreError::from_sqlx)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn load_by_ids(&self, ids: &[i64]) -> $crate::store::StoreResult<Vec<$crate::domain::Order>> {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let order = <Self as $crate::store::Store>::order_by_id(self, *id)
                        .await?
                        .ok_or_else(|| $crate::store::StoreError::NotFound(format!("id {id}")))?;
                    out.push(order);
                }
                Ok(out)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> $crate::store::Backend {
                $backend
            }

            async fn migrate(&self) -> $crate::store::StoreResult<()> {
                $migrator.run(&self.pool).await.map_err(|e| $crate::store::StoreError::Migration(e.to_string()))
            }

            async fn ping(&self) -> $crate::store::StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err($crate::store::StoreError::from_sqlx)?;
                Ok(())
            }

            async fn import_orders(
                &self,
                orders: &[$crate::domain::Order],
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::store::ImportSummary> {
                use $crate::store::rows::{self, IMPORT_MAY_REPLACE, IMPORT_MAY_SET};
                use $crate::store::StoreError;
                for o in orders {
                    rows::fen(o.amount)?;
                }
                let mut summary = $crate::store::ImportSummary::default();
                let mut tx = self.begin_write().await?;
                for o in orders {
                    let existing: Option<(i64, String)> = sqlx::query_as("SELECT id, status FROM orders WHERE order_no = $1")
                        .bind(o.order_no.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    let (id, from, to) = match existing {
                        None => {
                            let mut qb = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO orders ({}) ", rows::ORDER_COLUMNS));
                            qb.push_values(std::iter::once(o), |mut b, o| rows::push_order!(b, o));
                            qb.push(" RETURNING id");
                            let id: i64 = qb.build_query_scalar().fetch_one(&mut *tx).await.map_err(StoreError::from_sqlx)?;
                            summary.inserted += 1;
                            (id, None, o.status)
                        }
                        Some((id, old)) => {
                            let old_status = $crate::domain::Status::from_code(&old)
                                .ok_or_else(|| StoreError::Corrupt(format!("order {}: bad status {old:?}", o.order_no)))?;
                            let status = if IMPORT_MAY_REPLACE.contains(&old_status) && IMPORT_MAY_SET.contains(&o.status) {
                                o.status
                            } else {
                                old_status
                            };
                            sqlx::query(rows::UPDATE_IMPORTED_ORDER)
                                .bind(id)
                                .bind(o.platform_order_no.clone())
                                .bind(o.kind.code())
                                .bind(i64::from(o.term_years))
                                .bind(rows::fen(o.amount)?)
                                .bind(status.code())
                                .bind(o.created_at)
                                .bind(o.paid_at)
                                .bind(o.docs_approved_at)
                                .bind(o.account.as_str())
                                .bind(o.holder_name.as_str())
                                .bind(o.company.as_str())
                                .bind(o.contact_phone.as_str())
                                .bind(o.phone_tail())
                                .bind(o.key_serial.as_str())
                                .bind(o.cert.serial.as_str())
                                .bind(o.cert.subject.as_str())
                                .bind(o.cert.not_before)
                                .bind(o.cert.not_after)
                                .bind(o.cert.seal.code())
                                .bind(o.handler.name.as_str())
                                .bind(o.handler.phone.as_str())
                                .bind(o.handler.id_number.as_str())
                                .bind(o.handler.docs_approved)
                                .bind(o.inbound.carrier.as_str())
                                .bind(o.inbound.waybill.clone())
                                .bind(rows::inbound_key(o))
                                .bind(o.ship_to.name.as_str())
                                .bind(o.ship_to.phone.as_str())
                                .bind(o.ship_to.region.as_str())
                                .bind(o.ship_to.address.as_str())
                                .bind(o.invoice.title.as_str())
                                .bind(o.invoice.tax_id.as_str())
                                .bind(o.invoice.bank.as_str())
                                .bind(o.invoice.bank_account.as_str())
                                .bind(o.invoice.address.as_str())
                                .bind(o.invoice.phone.as_str())
                                .bind(o.invoice.email.as_str())
                                .bind(at)
                                .execute(&mut *tx)
                                .await
                                .map_err(StoreError::from_sqlx)?;
                            summary.updated += 1;
                            (id, Some(old_status), status)
                        }
                    };
                    if from != Some(to) {
                        Self::insert_audit(&mut *tx, Some(id), at, actor, "import", from.map(|s| s.code()), Some(to.code()), "平台订单导入").await?;
                    }
                }
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                Ok(summary)
            }

            async fn bulk_insert_orders(&self, orders: &[$crate::domain::Order]) -> $crate::store::StoreResult<u64> {
                use $crate::store::rows;
                use $crate::store::StoreError;
                for o in orders {
                    rows::fen(o.amount)?;
                }
                let mut tx = self.begin_write().await?;
                let mut inserted = 0;
                for chunk in orders.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO orders ({}) ", rows::ORDER_COLUMNS));
                    qb.push_values(chunk, |mut b, o| rows::push_order!(b, o));
                    inserted += qb.build().execute(&mut *tx).await.map_err(StoreError::from_sqlx)?.rows_affected();
                }
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                Ok(inserted)
            }

            async fn order_by_no(&self, no: &$crate::domain::OrderNo) -> $crate::store::StoreResult<Option<$crate::domain::Order>> {
                let sql = format!("{} WHERE order_no = $1", $crate::store::rows::SELECT_ORDER);
                Ok(self.fetch_orders(&sql, &[no.as_str()]).await?.pop())
            }

            async fn order_by_id(&self, id: i64) -> $crate::store::StoreResult<Option<$crate::domain::Order>> {
                let sql = format!("{} WHERE id = $1", $crate::store::rows::SELECT_ORDER);
                let row = sqlx::query_as::<_, $crate::store::rows::OrderRow>(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                row.map($crate::domain::Order::try_from).transpose()
            }

            async fn orders_by_inbound_waybill(
                &self,
                waybill: &$crate::domain::Waybill,
            ) -> $crate::store::StoreResult<Vec<$crate::domain::Order>> {
                let sql = format!("{} WHERE inbound_waybill = $1 ORDER BY id", $crate::store::rows::SELECT_ORDER);
                self.fetch_orders(&sql, &[waybill.as_str()]).await
            }

            async fn list_orders(&self, query: &$crate::store::ListQuery) -> $crate::store::StoreResult<Vec<$crate::domain::Order>> {
                let sql = format!(
                    "{} WHERE ($1 IS NULL OR status = $1) AND id > $2 ORDER BY id LIMIT $3",
                    $crate::store::rows::SELECT_ORDER
                );
                let rows = sqlx::query_as::<_, $crate::store::rows::OrderRow>(&sql)
                    .bind(query.status.map(|s| s.code()))
                    .bind(query.after_id)
                    .bind(query.limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                rows.into_iter().map($crate::domain::Order::try_from).collect()
            }

            async fn search_orders(&self, text: &str, limit: i64) -> $crate::store::StoreResult<Vec<$crate::domain::Order>> {
                let raw = text.trim();
                if raw.is_empty() {
                    return Ok(Vec::new());
                }
                let canonical = $crate::domain::scan_text::canonical_identifier(raw);
                let upper_bound = format!("{raw}\u{10FFFF}");
                let sql = format!(
                    "{} WHERE order_no = $1 OR platform_order_no = $1 OR key_serial = $1 OR inbound_waybill = $1 \
                     OR outbound_waybill = $1 OR account = $2 OR phone_tail = $2 OR holder_name = $2 \
                     OR (company >= $2 AND company < $3) ORDER BY id DESC LIMIT $4",
                    $crate::store::rows::SELECT_ORDER
                );
                let mut rows = sqlx::query_as::<_, $crate::store::rows::OrderRow>(&sql)
                    .bind(canonical)
                    .bind(raw)
                    .bind(upper_bound)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                if rows.is_empty() && raw.chars().count() >= 2 {
                    // Nothing by the indexes: look for the text inside company names (a full scan,
                    // acceptable for a search staff type by hand, never used by intake).
                    let pattern = format!("%{}%", raw.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
                    let sql = format!(
                        "{} WHERE company LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT $2",
                        $crate::store::rows::SELECT_ORDER
                    );
                    rows = sqlx::query_as::<_, $crate::store::rows::OrderRow>(&sql)
                        .bind(pattern)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::store::StoreError::from_sqlx)?;
                }
                rows.into_iter().map($crate::domain::Order::try_from).collect()
            }

            async fn count_orders(&self) -> $crate::store::StoreResult<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM orders")
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn apply_change(
                &self,
                change: &$crate::store::PlannedChange,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::domain::Order> {
                let mut tx = self.begin_write().await?;
                Self::write_change(&mut tx, change, actor, at).await?;
                tx.commit().await.map_err($crate::store::StoreError::from_sqlx)?;
                Ok(self.load_by_ids(&[change.order_id]).await?.remove(0))
            }

            async fn receive_parcel(
                &self,
                parcel: &$crate::store::ParcelReceipt,
                actor: &$crate::store::Actor,
            ) -> $crate::store::StoreResult<Vec<$crate::domain::Order>> {
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                for change in &parcel.changes {
                    Self::write_change(&mut tx, change, actor, parcel.at).await?;
                    sqlx::query("INSERT INTO receipts (order_id, waybill, received_at, operator, desk) VALUES ($1, $2, $3, $4, $5)")
                        .bind(change.order_id)
                        .bind(parcel.waybill.as_str())
                        .bind(parcel.at)
                        .bind(actor.operator.as_str())
                        .bind(actor.desk.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                }
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                let ids: Vec<i64> = parcel.changes.iter().map(|c| c.order_id).collect();
                self.load_by_ids(&ids).await
            }

            async fn record_unmatched_parcel(
                &self,
                raw_scan: &str,
                waybill: &$crate::domain::Waybill,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<i64> {
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO unmatched_parcels (raw_scan, waybill, scanned_at, operator, desk) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(raw_scan)
                .bind(waybill.as_str())
                .bind(at)
                .bind(actor.operator.as_str())
                .bind(actor.desk.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
                Self::insert_audit(&mut *tx, None, at, actor, "unmatched_parcel", None, None, &format!("无主包裹 {}", waybill)).await?;
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                Ok(id)
            }

            async fn unmatched_parcels(&self) -> $crate::store::StoreResult<Vec<$crate::store::UnmatchedParcel>> {
                let rows: Vec<$crate::store::rows::UnmatchedRow> = sqlx::query_as(
                    "SELECT id, raw_scan, waybill, scanned_at, operator, desk FROM unmatched_parcels \
                     WHERE resolved_at IS NULL ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn receipts_for_order(&self, order_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::Receipt>> {
                self.all_by_key::<$crate::store::rows::ReceiptRow, _, _>(
                    "SELECT order_id, waybill, received_at, operator, desk FROM receipts WHERE order_id = $1 ORDER BY id",
                    order_id,
                )
                .await
            }

            async fn audit_for_order(&self, order_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::AuditEntry>> {
                self.all_by_key::<$crate::store::rows::AuditRow, _, _>(
                    "SELECT id, order_id, at, operator, desk, action, from_status, to_status, reason FROM audit_log \
                     WHERE order_id = $1 ORDER BY id",
                    order_id,
                )
                .await
            }

            async fn note(
                &self,
                order_id: Option<i64>,
                action: &str,
                reason: &str,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                let mut conn = self.pool.acquire().await.map_err($crate::store::StoreError::from_sqlx)?;
                Self::insert_audit(&mut conn, order_id, at, actor, action, None, None, reason).await?;
                Ok(())
            }

            async fn change_feed(&self) -> $crate::store::StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
                self.listen_for_changes().await
            }

            async fn last_audit_id(&self) -> $crate::store::StoreResult<i64> {
                sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM audit_log")
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn record_booking(
                &self,
                b: &$crate::store::BookedShipment,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE orders SET outbound_waybill = $1, outbound_route = $2, version = version + 1, updated_at = $3 \
                     WHERE id = $4 AND version = $5 AND outbound_waybill IS NULL",
                )
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
                Self::insert_audit(&mut *tx, Some(b.order_id), at, actor, "book", Some(b.status.code()), Some(b.status.code()), &format!("顺丰下单，回寄运单 {}", b.waybill)).await?;
                tx.commit().await.map_err(StoreError::from_sqlx)
            }

            async fn outbound_route(&self, order_id: i64) -> $crate::store::StoreResult<Option<String>> {
                let route: Option<Option<String>> = sqlx::query_scalar("SELECT outbound_route FROM orders WHERE id = $1")
                    .bind(order_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(route.flatten())
            }

            async fn clock_facts(&self, scope: $crate::store::ClockScope) -> $crate::store::StoreResult<Vec<$crate::store::ClockFacts>> {
                use $crate::store::rows::{self, AuditRow, ClockOrderRow};
                use $crate::store::StoreError;
                let (filter, from, to) = match scope {
                    $crate::store::ClockScope::Open => (rows::CLOCK_OPEN.to_string(), None, None),
                    $crate::store::ClockScope::StoppedBetween { from, to } => (rows::CLOCK_STOPPED.to_string(), Some(from), Some(to)),
                    $crate::store::ClockScope::ActiveSince { from } => {
                        (format!("{} OR {}", rows::CLOCK_OPEN, rows::CLOCK_ACTIVE_SINCE), Some(from), None)
                    }
                };
                let orders_sql = format!(
                    "SELECT o.id, o.order_no, o.status, o.paid_at, o.received_at, o.docs_approved_at, o.shipped_at, \
                     o.invoice_status FROM orders o WHERE {filter} ORDER BY o.id"
                );
                let events_sql = format!(
                    "SELECT a.id, a.order_id, a.at, a.operator, a.desk, a.action, a.from_status, a.to_status, a.reason \
                     FROM audit_log a JOIN orders o ON o.id = a.order_id WHERE ({filter}) AND (a.to_status = 'on_hold' \
                     OR a.from_status = 'on_hold' OR a.action IN ('ship', 'invoice_issued')) ORDER BY a.order_id, a.id"
                );
                let mut orders_q = sqlx::query_as::<_, ClockOrderRow>(&orders_sql);
                let mut events_q = sqlx::query_as::<_, AuditRow>(&events_sql);
                for bound in [from, to].into_iter().flatten() {
                    orders_q = orders_q.bind(bound);
                    events_q = events_q.bind(bound);
                }
                let orders = orders_q.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
                let events = events_q.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
                rows::clock_facts(orders, events)
            }

            async fn add_operator(
                &self,
                name: &str,
                password_hash: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::store::OperatorRecord> {
                use $crate::store::StoreError;
                let row: $crate::store::rows::OperatorRow = sqlx::query_as(
                    "INSERT INTO operators (name, password_hash, active, created_at) VALUES ($1, $2, $3, $4) \
                     RETURNING id, name, password_hash, active",
                )
                .bind(name)
                .bind(password_hash)
                .bind(true)
                .bind(at)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::OperatorExists(name.to_string()),
                    _ => StoreError::from_sqlx(e),
                })?;
                Ok(row.into())
            }

            async fn operator_by_name(&self, name: &str) -> $crate::store::StoreResult<Option<$crate::store::OperatorRecord>> {
                let row: Option<$crate::store::rows::OperatorRow> =
                    sqlx::query_as("SELECT id, name, password_hash, active FROM operators WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(row.map(Into::into))
            }
            async fn member_order(
                &self,
                no: &$crate::domain::OrderNo,
            ) -> $crate::store::StoreResult<Option<$crate::domain::member::MemberOrder>> {
                if let Some(read) = self.member_order_direct(no).await {
                    return read;
                }
                let row = sqlx::query_as::<_, $crate::store::rows::MemberOrderRow>($crate::store::rows::SELECT_MEMBER_ORDER)
                    .bind(no.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                row.map($crate::domain::member::MemberOrder::try_from).transpose()
            }

            async fn invoice_document(&self, order_id: i64) -> $crate::store::StoreResult<Option<$crate::store::InvoiceDocument>> {
                let row = sqlx::query_as::<_, $crate::store::rows::InvoiceRow>($crate::store::rows::SELECT_INVOICE_DOCUMENT)
                    .bind(order_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(row.map(Into::into))
            }

            async fn start_renewal(
                &self,
                job: &$crate::domain::renewal_job::NewRenewalJob,
                change: &$crate::store::PlannedChange,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::domain::renewal_job::RenewalJob> {
                use $crate::store::StoreError;
                let kept = serde_json::to_string(&job.kept_objects).map_err(|e| StoreError::Database(e.to_string()))?;
                let mut tx = self.begin_write().await?;
                Self::write_change(&mut tx, change, actor, at).await?;
                let id: i64 = sqlx::query_scalar($crate::store::rows::INSERT_RENEWAL_JOB)
                    .bind(job.order_id)
                    .bind(job.key_serial.as_str())
                    .bind($crate::domain::renewal_job::RenewalStep::Start.code())
                    .bind(job.algorithm.as_str())
                    .bind(job.new_key_id.as_str())
                    .bind(job.old_key_id.as_str())
                    .bind(job.old_label.as_str())
                    .bind(job.old_cert_serial.as_str())
                    .bind(job.old_cert_fingerprint.as_str())
                    .bind(job.old_not_before)
                    .bind(job.old_not_after)
                    .bind(job.planned_serial.as_str())
                    .bind(job.planned_not_before)
                    .bind(job.planned_not_after)
                    .bind(kept)
                    .bind(actor.operator.as_str())
                    .bind(actor.desk.as_str())
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { order_no: change.order_no.to_string() },
                        _ => StoreError::from_sqlx(e),
                    })?;
                sqlx::query($crate::store::rows::INSERT_JOURNAL)
                    .bind(id)
                    .bind($crate::domain::renewal_job::RenewalStep::Start.code())
                    .bind($crate::domain::renewal_job::Phase::Done.code())
                    .bind(format!("order {} key {}", change.order_no, job.key_serial))
                    .bind(0_i64)
                    .bind(0_i64)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                self.renewal_job(id).await
            }

            async fn renewal_jobs_for_order(&self, order_id: i64) -> $crate::store::StoreResult<Vec<$crate::domain::renewal_job::RenewalJob>> {
                let sql = format!("{} WHERE order_id = $1 ORDER BY id DESC", $crate::store::rows::SELECT_RENEWAL_JOB);
                let rows: Vec<$crate::store::rows::RenewalJobRow> = sqlx::query_as(&sql)
                    .bind(order_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn journal(
                &self,
                job_id: i64,
                step: $crate::domain::renewal_job::RenewalStep,
                phase: $crate::domain::renewal_job::Phase,
                detail: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query($crate::store::rows::INSERT_JOURNAL)
                    .bind(job_id)
                    .bind(step.code())
                    .bind(phase.code())
                    .bind(detail)
                    .bind(0_i64)
                    .bind(0_i64)
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(())
            }

            async fn commit_step(
                &self,
                job_id: i64,
                step: $crate::domain::renewal_job::RenewalStep,
                result: &$crate::domain::renewal_job::StepResult,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::domain::renewal_job::RenewalJob> {
                let mut tx = self.begin_write().await?;
                Self::write_step(&mut tx, job_id, step, result, at).await?;
                tx.commit().await.map_err($crate::store::StoreError::from_sqlx)?;
                self.renewal_job(job_id).await
            }

            async fn record_issued_certificate(
                &self,
                cert: &$crate::domain::renewal_job::IssuedCertificate,
                result: &$crate::domain::renewal_job::StepResult,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::domain::renewal_job::IssuedCertificate> {
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                Self::write_step(&mut tx, cert.job_id, $crate::domain::renewal_job::RenewalStep::Issue, result, at).await?;
                sqlx::query(
                    "INSERT INTO issued_certificates (job_id, order_id, serial, subject, issuer, not_before, not_after, \
                     fingerprint, pem, ca_backend, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(cert.job_id)
                .bind(cert.order_id)
                .bind(cert.serial.as_str())
                .bind(cert.subject.as_str())
                .bind(cert.issuer.as_str())
                .bind(cert.not_before)
                .bind(cert.not_after)
                .bind(cert.fingerprint.as_str())
                .bind(cert.pem.as_str())
                .bind(cert.ca_backend.as_str())
                .bind(cert.issued_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { order_no: format!("renewal job {}", cert.job_id) },
                    _ => StoreError::from_sqlx(e),
                })?;
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                self.issued_certificate_for_job(cert.job_id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issued certificate of job {}", cert.job_id)))
            }

            async fn issued_certificate_for_job(&self, job_id: i64) -> $crate::store::StoreResult<Option<$crate::domain::renewal_job::IssuedCertificate>> {
                let sql = format!("{} WHERE job_id = $1", $crate::store::rows::SELECT_ISSUED);
                let row: Option<$crate::store::rows::IssuedRow> = sqlx::query_as(&sql)
                    .bind(job_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(row.map(Into::into))
            }

            async fn apply_member_change(
                &self,
                change: &$crate::store::MemberChange,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::{MemberAction, StoreError};
                let mut tx = self.begin_member_write().await?;
                let (from, to, done) = match &change.action {
                    MemberAction::InboundWaybill { status, carrier, raw, waybill } => {
                        let done = sqlx::query($crate::store::rows::UPDATE_MEMBER_INBOUND)
                            .bind(carrier.as_str())
                            .bind(raw.as_str())
                            .bind(waybill.as_str())
                            .bind(at)
                            .bind(change.order_id)
                            .bind(change.expected_version)
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?;
                        (*status, *status, done)
                    }
                    MemberAction::Status(t) => {
                        let done = sqlx::query($crate::store::rows::UPDATE_MEMBER_STATUS)
                            .bind(t.to.code())
                            .bind(at)
                            .bind(change.order_id)
                            .bind(change.expected_version)
                            .bind(t.from.code())
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?;
                        (t.from, t.to, done)
                    }
                };
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict { order_no: change.order_no.to_string() });
                }
                Self::insert_audit(&mut *tx, Some(change.order_id), at, actor, change.action.audit_action(), Some(from.code()), Some(to.code()), change.reason.as_str()).await?;
                tx.commit().await.map_err(StoreError::from_sqlx)
            }

            async fn abandon_renewal(
                &self,
                abandon: &$crate::domain::renewal_job::Abandonment,
                change: &$crate::store::PlannedChange,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::domain::Order> {
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                let ended = sqlx::query("UPDATE renewal_jobs SET state = 'done', finished_at = $1, updated_at = $1 WHERE id = $2 AND state = 'running'")
                    .bind(at)
                    .bind(abandon.job_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                if ended.rows_affected() != 1 {
                    return Err(StoreError::Conflict { order_no: change.order_no.to_string() });
                }
                sqlx::query(
                    "INSERT INTO renewal_abandonments (job_id, reason, key_cleanup, unused_certificate_id, operator, desk, at) \
                     VALUES ($1, $2, $3, (SELECT id FROM issued_certificates WHERE job_id = $1), $4, $5, $6)",
                )
                .bind(abandon.job_id)
                .bind(abandon.reason.as_str())
                .bind(abandon.key_cleanup.as_str())
                .bind(actor.operator.as_str())
                .bind(actor.desk.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
                sqlx::query($crate::store::rows::INSERT_JOURNAL)
                    .bind(abandon.job_id)
                    .bind(abandon.step.code())
                    .bind($crate::domain::renewal_job::Phase::Failed.code())
                    .bind(format!("放弃续签：{}；{}", abandon.reason, abandon.key_cleanup))
                    .bind(0i64)
                    .bind(0i64)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                Self::write_change(&mut tx, change, actor, at).await?;
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                Ok(self.load_by_ids(&[change.order_id]).await?.remove(0))
            }

            async fn issued_certificates_for_order(&self, order_id: i64) -> $crate::store::StoreResult<Vec<$crate::domain::renewal_job::IssuedCertificate>> {
                let sql = format!("{} WHERE order_id = $1 ORDER BY id", $crate::store::rows::SELECT_ISSUED);
                self.all_by_key::<$crate::store::rows::IssuedRow, _, _>(&sql, order_id).await
            }

            async fn finish_renewal(
                &self,
                job_id: i64,
                change: &$crate::store::PlannedChange,
                result: &$crate::domain::renewal_job::StepResult,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::domain::Order> {
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                Self::write_step(&mut tx, job_id, $crate::domain::renewal_job::RenewalStep::Finish, result, at).await?;
                sqlx::query("UPDATE renewal_jobs SET state = 'done', finished_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(job_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                Self::write_change(&mut tx, change, actor, at).await?;
                // The renewed certificate is now the one on the key: the order shows it, and next
                // year's renewal checks the key against it.
                sqlx::query(
                    "UPDATE orders SET cert_serial = (SELECT serial FROM issued_certificates WHERE job_id = $1), \
                     cert_not_before = (SELECT not_before FROM issued_certificates WHERE job_id = $1), \
                     cert_not_after = (SELECT not_after FROM issued_certificates WHERE job_id = $1) \
                     WHERE id = $2 AND EXISTS (SELECT 1 FROM issued_certificates WHERE job_id = $1)",
                )
                .bind(job_id)
                .bind(change.order_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                Ok(self.load_by_ids(&[change.order_id]).await?.remove(0))
            }

            async fn renewal_journal(&self, job_id: i64) -> $crate::store::StoreResult<Vec<$crate::domain::renewal_job::JournalEntry>> {
                self.all_by_key::<$crate::store::rows::JournalRow, _, _>(
                    "SELECT id, job_id, step, phase, detail, elapsed_us, token_us, at FROM renewal_journal WHERE job_id = $1 ORDER BY id",
                    job_id,
                )
                .await
            }

            async fn issue_invoice(
                &self,
                order_id: i64,
                order_no: &$crate::domain::OrderNo,
                expected_version: i64,
                source: $crate::store::InvoiceSource<'_>,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::store::InvoiceIssue> {
                use chrono::Datelike;
                use $crate::store::{rows, InvoiceIssue, InvoiceSource, StoreError};
                let attached_number = match &source {
                    InvoiceSource::Attach { number, .. } => Some(number.clone()),
                    InvoiceSource::Allocate(_) => None,
                };
                let existing_or_refuse = |existing: $crate::store::InvoiceDocument| match &attached_number {
                    Some(n) if *n != existing.number => Err(StoreError::Refused(format!(
                        "订单 {order_no} 已开具发票 {}，不能再上传发票 {n}",
                        existing.number
                    ))),
                    _ => Ok(InvoiceIssue::Existing(existing)),
                };
                let mut tx = self.begin_write().await?;
                let existing = sqlx::query_as::<_, rows::InvoiceRow>(rows::SELECT_INVOICE_DOCUMENT)
                    .bind(order_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                if let Some(row) = existing {
                    return existing_or_refuse(row.into());
                }
                let (number, pdf, how) = match source {
                    InvoiceSource::Allocate(render) => {
                        let seq: i64 = sqlx::query_scalar("UPDATE counters SET value = value + 1 WHERE name = 'invoice' RETURNING value")
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(StoreError::from_sqlx)?;
                        let number = rows::invoice_number(at.with_timezone(&$crate::sla::SHANGHAI).year(), seq);
                        let pdf = render(&number).map_err(|e| StoreError::Refused(format!("发票无法生成：{e}")))?;
                        (number, pdf, "开具")
                    }
                    InvoiceSource::Attach { number, pdf } => (number, pdf, "上传"),
                };
                let sha256 = rows::sha256_hex(&pdf);
                let inserted = sqlx::query("INSERT INTO invoices (order_id, number, pdf, sha256, issued_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(order_id)
                    .bind(number.as_str())
                    .bind(pdf.as_slice())
                    .bind(sha256.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await;
                if let Err(e) = inserted {
                    let unique = matches!(&e, sqlx::Error::Database(db) if db.is_unique_violation());
                    drop(tx);
                    if !unique {
                        return Err(StoreError::from_sqlx(e));
                    }
                    // Another desk issued this order's invoice meanwhile, or the number is taken.
                    return match <Self as $crate::store::Store>::invoice_document(self, order_id).await? {
                        Some(doc) => existing_or_refuse(doc),
                        None => Err(StoreError::Refused(format!("发票号码 {number} 已用于其他订单"))),
                    };
                }
                let done = sqlx::query(
                    "UPDATE orders SET invoice_status = 'issued', updated_at = $1, version = version + 1 WHERE id = $2 AND version = $3",
                )
                .bind(at)
                .bind(order_id)
                .bind(expected_version)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict { order_no: order_no.to_string() });
                }
                Self::insert_audit(&mut *tx, Some(order_id), at, actor, "invoice_issued", None, None, &format!("{how}发票 {number}")).await?;
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                Ok(InvoiceIssue::New($crate::store::InvoiceDocument { number, pdf, sha256, issued_at: at }))
            }

            async fn enqueue_print(
                &self,
                job: &$crate::store::NewPrintJob,
                actor: &$crate::store::Actor,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::store::PrintJobRecord> {
                let sql = format!(
                    "INSERT INTO print_jobs (order_id, kind, printer, name, pdf, media, reprint, state, attempts, next_attempt_at, \
                     operator, desk, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 0, $8, $9, $10, $8) RETURNING {}",
                    $crate::store::rows::PRINT_JOB_COLUMNS
                );
                let row: $crate::store::rows::PrintJobRow = sqlx::query_as(&sql)
                    .bind(job.order_id)
                    .bind(job.kind.as_str())
                    .bind(job.printer.as_str())
                    .bind(job.name.as_str())
                    .bind(job.pdf.as_slice())
                    .bind(job.media.as_deref())
                    .bind(job.reprint)
                    .bind(at)
                    .bind(actor.operator.as_str())
                    .bind(actor.desk.as_str())
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(row.into())
            }

            async fn due_print_jobs(&self, now: chrono::DateTime<chrono::Utc>) -> $crate::store::StoreResult<Vec<$crate::store::PrintJobRecord>> {
                let sql = format!("SELECT {} FROM print_jobs WHERE state = 'queued' AND next_attempt_at <= $1 ORDER BY id", $crate::store::rows::PRINT_JOB_COLUMNS);
                self.all_by_key::<$crate::store::rows::PrintJobRow, _, _>(&sql, now).await
            }

            async fn claim_print_job(
                &self,
                id: i64,
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE print_jobs SET next_attempt_at = $1 WHERE id = $2 AND state = 'queued' AND next_attempt_at <= $3",
                )
                .bind(lease_until)
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(done.rows_affected() == 1)
            }

            async fn update_print_job(
                &self,
                id: i64,
                update: &$crate::store::PrintJobUpdate,
            ) -> $crate::store::StoreResult<$crate::store::PrintJobRecord> {
                use $crate::store::PrintJobUpdate;
                use $crate::store::StoreError;
                let q = match update {
                    PrintJobUpdate::Done { printed_at } => sqlx::query(
                        "UPDATE print_jobs SET state = 'done', attempts = attempts + 1, last_error = NULL, printed_at = $1 WHERE id = $2",
                    )
                    .bind(*printed_at)
                    .bind(id),
                    PrintJobUpdate::Retry { attempts, next_attempt_at, error } => sqlx::query(
                        "UPDATE print_jobs SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4 AND state = 'queued'",
                    )
                    .bind(*attempts)
                    .bind(*next_attempt_at)
                    .bind(error.as_str())
                    .bind(id),
                    PrintJobUpdate::Failed { attempts, error } => sqlx::query(
                        "UPDATE print_jobs SET state = 'failed', attempts = $1, last_error = $2 WHERE id = $3 AND state = 'queued'",
                    )
                    .bind(*attempts)
                    .bind(error.as_str())
                    .bind(id),
                };
                q.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
                let sql = format!("SELECT {} FROM print_jobs WHERE id = $1", $crate::store::rows::PRINT_JOB_COLUMNS);
                let row: $crate::store::rows::PrintJobRow =
                    sqlx::query_as(&sql).bind(id).fetch_one(&self.pool).await.map_err(StoreError::from_sqlx)?;
                Ok(row.into())
            }

            async fn print_jobs(&self, done_since: chrono::DateTime<chrono::Utc>) -> $crate::store::StoreResult<Vec<$crate::store::PrintJobRecord>> {
                let sql = format!(
                    "SELECT {} FROM print_jobs WHERE state <> 'done' OR printed_at >= $1 ORDER BY id",
                    $crate::store::rows::PRINT_JOB_COLUMNS
                );
                self.all_by_key::<$crate::store::rows::PrintJobRow, _, _>(&sql, done_since).await
            }

            async fn print_queue_status(&self, done_since: chrono::DateTime<chrono::Utc>) -> $crate::store::StoreResult<$crate::store::PrintQueueStatus> {
                use $crate::store::StoreError;
                let counts: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT state, COUNT(*) FROM print_jobs WHERE state <> 'done' OR printed_at >= $1 GROUP BY state",
                )
                .bind(done_since)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::from_sqlx)?;
                let last_error: Option<String> = sqlx::query_scalar(
                    "SELECT last_error FROM print_jobs WHERE state <> 'done' AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_sqlx)?;
                let of = |state: &str| counts.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n as usize);
                Ok($crate::store::PrintQueueStatus { queued: of("queued"), failed: of("failed"), printed_since: of("done"), last_error })
            }

            async fn print_job(&self, id: i64) -> $crate::store::StoreResult<Option<$crate::store::PrintJobRecord>> {
                let sql = format!("SELECT {} FROM print_jobs WHERE id = $1", $crate::store::rows::PRINT_JOB_COLUMNS);
                let row: Option<$crate::store::rows::PrintJobRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                Ok(row.map(Into::into))
            }

            async fn print_jobs_for_order(&self, order_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::PrintJobRecord>> {
                let sql = format!("SELECT {} FROM print_jobs WHERE order_id = $1 ORDER BY id", $crate::store::rows::PRINT_JOB_COLUMNS);
                self.all_by_key::<$crate::store::rows::PrintJobRow, _, _>(&sql, order_id).await
            }
        }
    };
}

pub(crate) use sql_store;
