//! The member notice outbox (migration 0011): one row per (order, event, channel), written by
//! [`enqueue`](crate::store) inside the transaction of the change it announces (the store's audit
//! write calls it, so every change the desk makes is covered), then leased, sent and retried by the
//! worker (`ops::notify`). Also the member's opt-outs per order and channel. The SQL text both
//! backends share, the record types and the row conversion live here.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreError, StoreResult};
use crate::domain::notice::{Channel, NoticeEvent, NoticeKind, NoticeState};
use crate::domain::HoldReason;

#[async_trait]
pub trait NoticeStore: Send + Sync {
    /// Writes the event's notices (one per channel) in a transaction of its own; an event already
    /// written adds nothing. Returns how many rows were new. The store's own changes enqueue inside
    /// their transactions instead; this is for callers with nothing else to write.
    async fn enqueue_notice(&self, order_id: i64, event: &NoticeEvent, at: DateTime<Utc>) -> StoreResult<u64>;
    /// Pending notices due at `now`, oldest first, at most `limit`.
    async fn due_notices(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<NoticeRecord>>;
    /// Takes a due notice for one attempt by moving its `next_attempt_at` to `lease_until`; false when
    /// another worker took it first (or it is no longer pending).
    async fn claim_notice(&self, id: i64, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<bool>;
    /// Records the result of an attempt.
    async fn update_notice(&self, id: i64, update: &NoticeUpdate) -> StoreResult<()>;
    /// Every notice (or only the failed ones), newest first, at most `limit`.
    async fn notices(&self, failed_only: bool, limit: i64) -> StoreResult<Vec<NoticeRecord>>;
    /// One order's notices, oldest first.
    async fn notices_for_order(&self, order_id: i64) -> StoreResult<Vec<NoticeRecord>>;
    /// What the member page shows of an order's notices (only the columns the member role may read).
    async fn member_notices(&self, order_id: i64) -> StoreResult<Vec<MemberNotice>>;
    /// Records the member's opt-out of a channel for an order; false when it was there already.
    async fn opt_out(&self, order_id: i64, channel: Channel, at: DateTime<Utc>) -> StoreResult<bool>;
    /// The channels the member opted out of for an order.
    async fn opt_outs(&self, order_id: i64) -> StoreResult<Vec<Channel>>;
}

/// One notice as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeRecord {
    pub id: i64,
    pub order_id: i64,
    pub order_no: String,
    pub kind: NoticeKind,
    pub occurrence: String,
    pub channel: Channel,
    pub hold_reason: Option<HoldReason>,
    pub created_at: DateTime<Utc>,
    pub state: NoticeState,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub provider_message_id: Option<String>,
}

/// A notice as the member page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberNotice {
    pub kind: NoticeKind,
    pub channel: Channel,
    pub state: NoticeState,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeUpdate {
    Sent { at: DateTime<Utc>, message_id: Option<String> },
    Retry { attempts: i64, next_attempt_at: DateTime<Utc>, error: String },
    Failed { attempts: i64, error: String },
    Skipped { why: String },
}

pub(super) const INSERT_NOTICE: &str = "INSERT INTO notices (order_id, kind, occurrence, channel, hold_reason, \
created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
ON CONFLICT (order_id, kind, occurrence, channel) DO NOTHING";

const COLUMNS: &str = "n.id, n.order_id, o.order_no, n.kind, n.occurrence, n.channel, n.hold_reason, n.created_at, \
n.state, n.attempts, n.next_attempt_at, n.last_error, n.sent_at, n.provider_message_id";

pub(super) static DUE_NOTICES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM notices n JOIN orders o ON o.id = n.order_id \
WHERE n.state = 'pending' AND n.next_attempt_at <= $1 ORDER BY n.next_attempt_at, n.id LIMIT $2"
    )
});
pub(super) static LIST_NOTICES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM notices n JOIN orders o ON o.id = n.order_id \
WHERE ($1 = 0 OR n.state = 'failed') ORDER BY n.id DESC LIMIT $2"
    )
});
pub(super) static NOTICES_FOR_ORDER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {COLUMNS} FROM notices n JOIN orders o ON o.id = n.order_id WHERE n.order_id = $1 ORDER BY n.id")
});
pub(super) const MEMBER_NOTICES: &str =
    "SELECT kind, channel, state, created_at, sent_at FROM notices WHERE order_id = $1 ORDER BY created_at, kind, channel";
pub(super) const CLAIM_NOTICE: &str =
    "UPDATE notices SET next_attempt_at = $1 WHERE id = $2 AND state = 'pending' AND next_attempt_at <= $3";
pub(super) const NOTICE_SENT: &str = "UPDATE notices SET state = 'sent', attempts = attempts + 1, last_error = NULL, \
sent_at = $1, provider_message_id = $2 WHERE id = $3 AND state = 'pending'";
pub(super) const NOTICE_RETRY: &str =
    "UPDATE notices SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4 AND state = 'pending'";
pub(super) const NOTICE_FAILED: &str =
    "UPDATE notices SET state = 'failed', attempts = $1, last_error = $2 WHERE id = $3 AND state = 'pending'";
pub(super) const NOTICE_SKIPPED: &str =
    "UPDATE notices SET state = 'skipped', last_error = $1 WHERE id = $2 AND state = 'pending'";
pub(super) const INSERT_OPT_OUT: &str =
    "INSERT INTO notice_optouts (order_id, channel, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
pub(super) const SELECT_OPT_OUTS: &str = "SELECT channel FROM notice_optouts WHERE order_id = $1 ORDER BY channel";

/// A row of `notices` as read.
#[derive(sqlx::FromRow)]
pub(super) struct NoticeRow {
    id: i64,
    order_id: i64,
    order_no: String,
    kind: String,
    occurrence: String,
    channel: String,
    hold_reason: Option<String>,
    created_at: DateTime<Utc>,
    state: String,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    provider_message_id: Option<String>,
}

fn corrupt(id: impl std::fmt::Display, what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("notice {id}: bad {what} {v:?}"))
}

impl TryFrom<NoticeRow> for NoticeRecord {
    type Error = StoreError;

    fn try_from(r: NoticeRow) -> Result<NoticeRecord, StoreError> {
        Ok(NoticeRecord {
            kind: NoticeKind::from_code(&r.kind).ok_or_else(|| corrupt(r.id, "kind", &r.kind))?,
            channel: Channel::from_code(&r.channel).ok_or_else(|| corrupt(r.id, "channel", &r.channel))?,
            state: NoticeState::from_code(&r.state).ok_or_else(|| corrupt(r.id, "state", &r.state))?,
            hold_reason: match r.hold_reason.as_deref() {
                None => None,
                Some(c) => Some(HoldReason::from_code(c).ok_or_else(|| corrupt(r.id, "hold reason", c))?),
            },
            id: r.id,
            order_id: r.order_id,
            order_no: r.order_no,
            occurrence: r.occurrence,
            created_at: r.created_at,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            sent_at: r.sent_at,
            provider_message_id: r.provider_message_id,
        })
    }
}

/// A member-visible row of `notices`.
#[derive(sqlx::FromRow)]
pub(super) struct MemberNoticeRow {
    kind: String,
    channel: String,
    state: String,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<MemberNoticeRow> for MemberNotice {
    type Error = StoreError;

    fn try_from(r: MemberNoticeRow) -> Result<MemberNotice, StoreError> {
        Ok(MemberNotice {
            kind: NoticeKind::from_code(&r.kind).ok_or_else(|| corrupt("?", "kind", &r.kind))?,
            channel: Channel::from_code(&r.channel).ok_or_else(|| corrupt("?", "channel", &r.channel))?,
            state: NoticeState::from_code(&r.state).ok_or_else(|| corrupt("?", "state", &r.state))?,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
    }
}

/// Reads opt-out channel codes.
pub(super) fn channels(codes: Vec<String>) -> StoreResult<Vec<Channel>> {
    codes.iter().map(|c| Channel::from_code(c).ok_or_else(|| corrupt("opt-out", "channel", c))).collect()
}
