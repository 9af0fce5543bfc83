//! The certificate renewal rules of the platform: when a renewal may start (60 days before expiry, or
//! any time after), which certificates must come by mail (single-seal ones issued before 2021-12-17),
//! and the validity of the renewed certificate, in whole seconds as X.509 carries it.

use chrono::{DateTime, Duration, Months, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::order::{Certificate, Order, OrderKind, SealKind};
use super::Status;

/// Where the new validity starts when the old certificate has not expired yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtendFrom {
    /// Before expiry the term is added to the old expiry (as public CAs such as BJCA do); after expiry
    /// the term runs from issue.
    OldExpiry,
    /// The term always runs from the moment of issue.
    IssueTime,
}

/// The renewal rules, from configuration (`[renewal]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RenewalRules {
    /// A renewal may start this many days before the certificate expires.
    pub window_days: u32,
    /// Single-seal certificates issued before this date can only be renewed by mail.
    pub mail_only_before: NaiveDate,
    pub extend_from: ExtendFrom,
    /// How far (seconds) a CA's validity may lie from the planned one and still be accepted; a CA
    /// that answers further off is refused with both dates named.
    pub validity_tolerance_secs: u32,
}

impl Default for RenewalRules {
    fn default() -> Self {
        RenewalRules {
            window_days: 60,
            mail_only_before: NaiveDate::from_ymd_opt(2021, 12, 17).unwrap_or_default(),
            extend_from: ExtendFrom::OldExpiry,
            validity_tolerance_secs: 1,
        }
    }
}

/// Why a renewal cannot start now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RenewalBlocker {
    #[error("证书 {not_after} 到期，{opens_at} 起才能续签（到期前 {window_days} 天）")]
    TooEarly { not_after: DateTime<Utc>, opens_at: DateTime<Utc>, window_days: u32 },
    #[error("订单未支付")]
    NotPaid,
    #[error("办理人资料未审核通过")]
    DocumentsNotApproved,
    #[error("订单状态为「{}」，不能续签", .status.label())]
    WrongStatus { status: Status },
    #[error("2021-12-17 前签发的单章证书只能寄回续签")]
    MailOnly,
}

impl RenewalRules {
    /// The first instant a renewal may start.
    pub fn window_opens(&self, cert: &Certificate) -> DateTime<Utc> {
        cert.not_after - Duration::days(i64::from(self.window_days))
    }

    /// Whether a certificate can only be renewed by mail (issued before the cut-over with one seal).
    pub fn mail_only(&self, cert: &Certificate) -> bool {
        cert.seal == SealKind::Single && cert.not_before.date_naive() < self.mail_only_before
    }

    /// Everything that stops this order's certificate from being renewed at `now`.
    pub fn blockers(&self, order: &Order, now: DateTime<Utc>) -> Vec<RenewalBlocker> {
        let mut out = Vec::new();
        if !matches!(order.status, Status::Received | Status::Renewing) {
            out.push(RenewalBlocker::WrongStatus { status: order.status });
        }
        if order.paid_at.is_none() {
            out.push(RenewalBlocker::NotPaid);
        }
        if !order.handler.docs_approved {
            out.push(RenewalBlocker::DocumentsNotApproved);
        }
        if order.kind == OrderKind::SelfService && self.mail_only(&order.cert) {
            out.push(RenewalBlocker::MailOnly);
        }
        let opens_at = self.window_opens(&order.cert);
        if now < opens_at {
            out.push(RenewalBlocker::TooEarly {
                not_after: order.cert.not_after,
                opens_at,
                window_days: self.window_days,
            });
        }
        out
    }

    /// The validity of the renewed certificate issued at `issued_at` for `term_years`: whole seconds
    /// (an X.509 time carries no fraction), the start cut down to its second.
    pub fn new_validity(
        &self,
        old: &Certificate,
        issued_at: DateTime<Utc>,
        term_years: u32,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = issued_at.trunc_subsecs(0);
        let from = match self.extend_from {
            ExtendFrom::OldExpiry if old.not_after > start => old.not_after.trunc_subsecs(0),
            _ => start,
        };
        let until = from.checked_add_months(Months::new(12 * term_years)).unwrap_or(DateTime::<Utc>::MAX_UTC);
        (start, until)
    }

    /// Whether a validity the CA returned fits the planned one within the tolerance; if not, why,
    /// with both dates.
    pub fn check_validity(
        &self,
        planned: (DateTime<Utc>, DateTime<Utc>),
        returned: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<(), String> {
        let tolerance = Duration::seconds(i64::from(self.validity_tolerance_secs));
        let off = |a: DateTime<Utc>, b: DateTime<Utc>| (a - b).abs() > tolerance;
        let mut wrong = Vec::new();
        if off(returned.0, planned.0) {
            wrong.push(format!("生效时间 {}，续签规则要求 {}", returned.0, planned.0));
        }
        if off(returned.1, planned.1) {
            wrong.push(format!("有效期至 {}，续签规则要求 {}", returned.1, planned.1));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!("{}（允许误差 {} 秒）", wrong.join("；"), self.validity_tolerance_secs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::tests::sample_order;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 5, 50, 7).unwrap()
    }

    #[test]
    fn window_opens_sixty_days_before_expiry_and_stays_open_after() {
        let rules = RenewalRules::default();
        let mut o = sample_order();
        o.status = Status::Received;
        // Expires 2026-04-27: opens 2026-02-26.
        assert!(matches!(rules.blockers(&o, at(2026, 2, 25))[..], [RenewalBlocker::TooEarly { .. }]));
        assert!(rules.blockers(&o, at(2026, 2, 26)).is_empty());
        assert!(rules.blockers(&o, at(2027, 1, 1)).is_empty(), "expired certificates can be renewed");
    }

    #[test]
    fn blockers_are_all_reported() {
        let rules = RenewalRules::default();
        let mut o = sample_order();
        o.paid_at = None;
        o.handler.docs_approved = false;
        let b = rules.blockers(&o, at(2026, 4, 1));
        assert!(b.contains(&RenewalBlocker::NotPaid));
        assert!(b.contains(&RenewalBlocker::DocumentsNotApproved));
        assert!(b.contains(&RenewalBlocker::WrongStatus { status: Status::Paid }));
    }

    #[test]
    fn single_seal_before_cutover_is_mail_only() {
        let rules = RenewalRules::default();
        let mut o = sample_order();
        o.cert.seal = SealKind::Single;
        o.cert.not_before = at(2021, 12, 16);
        assert!(rules.mail_only(&o.cert));
        o.cert.not_before = at(2021, 12, 17);
        assert!(!rules.mail_only(&o.cert));
        o.cert.not_before = at(2020, 1, 1);
        o.cert.seal = SealKind::Dual;
        assert!(!rules.mail_only(&o.cert));
    }

    #[test]
    fn new_validity_extends_the_old_expiry_or_runs_from_issue() {
        let rules = RenewalRules::default();
        let o = sample_order(); // expires 2026-04-27
        let (from, until) = rules.new_validity(&o.cert, at(2026, 4, 1), 1);
        assert_eq!(from, at(2026, 4, 1));
        assert_eq!(until, at(2027, 4, 27));
        let (_, until) = rules.new_validity(&o.cert, at(2026, 5, 3), 2);
        assert_eq!(until, at(2028, 5, 3));
        let issue_time = RenewalRules { extend_from: ExtendFrom::IssueTime, ..rules };
        assert_eq!(issue_time.new_validity(&o.cert, at(2026, 4, 1), 1).1, at(2027, 4, 1));
    }
}
