//! Prometheus metrics of the member endpoint, in plain atomics: requests by route and status, request
//! latency by route (a histogram), and lookups refused (not found, rate limited, invalid input).
//! Routes are a fixed list, so the label set is bounded whatever clients send.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

pub const ROUTES: [&str; 9] = [
    "/",
    "/api/v1/orders/{order_no}",
    "/api/v1/orders/{order_no}/inbound-waybill",
    "/api/v1/orders/{order_no}/invoice.pdf",
    "/api/v1/orders/{order_no}/confirm-receipt",
    "/healthz",
    "/metrics",
    "/api/v1/openapi.json",
    "other",
];

const STATUSES: [u16; 16] = [200, 303, 400, 404, 405, 408, 409, 413, 414, 415, 422, 429, 431, 500, 503, 0];

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    RateLimited,
    Invalid,
}

impl Refusal {
    const ALL: [Refusal; 3] = [Refusal::NotFound, Refusal::RateLimited, Refusal::Invalid];

    fn label(self) -> &'static str {
        match self {
            Refusal::NotFound => "not_found",
            Refusal::RateLimited => "rate_limited",
            Refusal::Invalid => "invalid",
        }
    }
}

pub struct Metrics {
    requests: Vec<[AtomicU64; STATUSES.len()]>,
    latency: Vec<[AtomicU64; BUCKETS.len() + 1]>,
    latency_sum_us: Vec<AtomicU64>,
    refused: [AtomicU64; 3],
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: ROUTES.iter().map(|_| std::array::from_fn(|_| AtomicU64::new(0))).collect(),
            latency: ROUTES.iter().map(|_| std::array::from_fn(|_| AtomicU64::new(0))).collect(),
            latency_sum_us: ROUTES.iter().map(|_| AtomicU64::new(0)).collect(),
            refused: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// The route a request path belongs to (an index into [`ROUTES`]).
pub fn route_of(path: &str) -> usize {
    match path {
        "/" => 0,
        "/healthz" => 5,
        "/metrics" => 6,
        "/api/v1/openapi.json" => 7,
        _ => match path.strip_prefix("/api/v1/orders/").map(|rest| rest.split_once('/')) {
            Some(None) => 1,
            Some(Some((_, "inbound-waybill"))) => 2,
            Some(Some((_, "invoice.pdf"))) => 3,
            Some(Some((_, "confirm-receipt"))) => 4,
            _ => 8,
        },
    }
}

impl Metrics {
    pub fn observe(&self, route: usize, status: u16, elapsed: Duration) {
        let route = route.min(ROUTES.len() - 1);
        let s = STATUSES.iter().position(|&c| c == status).unwrap_or(STATUSES.len() - 1);
        self.requests[route][s].fetch_add(1, Relaxed);
        let secs = elapsed.as_secs_f64();
        let b = BUCKETS.iter().position(|&le| secs <= le).unwrap_or(BUCKETS.len());
        self.latency[route][b].fetch_add(1, Relaxed);
        self.latency_sum_us[route].fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    pub fn refused(&self, why: Refusal) {
        self.refused[why as usize].fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        out.push_str("# HELP keydesk_member_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE keydesk_member_requests_total counter\n");
        for (r, route) in ROUTES.iter().enumerate() {
            for (s, status) in STATUSES.iter().enumerate() {
                let n = self.requests[r][s].load(Relaxed);
                if n > 0 {
                    let status = if *status == 0 { "other".to_string() } else { status.to_string() };
                    let _ = writeln!(out, "keydesk_member_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
                }
            }
        }
        out.push_str("# HELP keydesk_member_request_duration_seconds Time to answer a request, by route.\n");
        out.push_str("# TYPE keydesk_member_request_duration_seconds histogram\n");
        for (r, route) in ROUTES.iter().enumerate() {
            let mut cumulative = 0;
            for (b, le) in BUCKETS.iter().enumerate() {
                cumulative += self.latency[r][b].load(Relaxed);
                let _ = writeln!(
                    out,
                    "keydesk_member_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            cumulative += self.latency[r][BUCKETS.len()].load(Relaxed);
            let _ = writeln!(
                out,
                "keydesk_member_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}"
            );
            let sum = self.latency_sum_us[r].load(Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "keydesk_member_request_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "keydesk_member_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}");
        }
        out.push_str("# HELP keydesk_member_lookups_refused_total Lookups refused: unknown order or wrong phone tail, rate limited, invalid input.\n");
        out.push_str("# TYPE keydesk_member_lookups_refused_total counter\n");
        for why in Refusal::ALL {
            let _ = writeln!(
                out,
                "keydesk_member_lookups_refused_total{{reason=\"{}\"}} {}",
                why.label(),
                self.refused[why as usize].load(Relaxed)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_a_bounded_set() {
        assert_eq!(route_of("/api/v1/orders/0000250427000004"), 1);
        assert_eq!(route_of("/api/v1/orders/x/invoice.pdf"), 3);
        assert_eq!(route_of("/api/v1/orders/x/y/z"), 8);
        assert_eq!(route_of("/wp-admin"), 8);
        let m = Metrics::default();
        m.observe(1, 200, Duration::from_micros(700));
        m.refused(Refusal::NotFound);
        let text = m.render();
        assert!(
            text.contains("keydesk_member_requests_total{route=\"/api/v1/orders/{order_no}\",status=\"200\"} 1"),
            "{text}"
        );
        assert!(text.contains("le=\"0.001\"} 1"));
        assert!(text.contains("keydesk_member_lookups_refused_total{reason=\"not_found\"} 1"));
    }
}
