//! The failure limiter: lookups that fail (unknown order or wrong phone tail) are limited per order
//! number — whether the order exists or not — and per client address. Each key has a token bucket of
//! `limit` tokens refilled over the window (so 5 per 15 minutes: five at once, then one every three
//! minutes). Memory is bounded: keys are hashed, kept in shards of two generations, and when a shard's
//! current generation is full the older one is forgotten (least recently used first). Only failures
//! create entries, so ordinary lookups cost one map probe per key.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SHARDS: usize = 16;

pub struct FailureLimiter {
    per_order: Buckets,
    per_client: Buckets,
}

impl FailureLimiter {
    pub fn new(per_order: u32, per_client: u32, window: Duration, capacity: usize) -> FailureLimiter {
        FailureLimiter {
            per_order: Buckets::new(per_order, window, capacity),
            per_client: Buckets::new(per_client, window, capacity),
        }
    }

    /// `Err(retry_after)` when the client or the order number has used up its failures.
    pub fn check(&self, client: IpAddr, order: Option<&str>, now: Instant) -> Result<(), Duration> {
        let by_client = self.per_client.check(&client_key(client), now);
        let by_order = order.map_or(Ok(()), |o| self.per_order.check(&o, now));
        match (by_client, by_order) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(a.max(b)),
            (Err(a), _) | (_, Err(a)) => Err(a),
        }
    }

    pub fn record_failure(&self, client: IpAddr, order: Option<&str>, now: Instant) {
        self.per_client.consume(&client_key(client), now);
        if let Some(o) = order {
            self.per_order.consume(&o, now);
        }
    }
}

/// IPv6 clients are limited by their /64, which one subscriber usually holds whole.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut s = v6.segments();
                s[4..].fill(0);
                IpAddr::V6(s.into())
            }
        },
        v4 => v4,
    }
}

struct Buckets {
    limit: f64,
    per_sec: f64,
    shard_capacity: usize,
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
}

#[derive(Default)]
struct Shard {
    current: HashMap<u64, Bucket>,
    previous: HashMap<u64, Bucket>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Buckets {
    fn new(limit: u32, window: Duration, capacity: usize) -> Buckets {
        let limit = f64::from(limit.max(1));
        Buckets {
            limit,
            per_sec: limit / window.as_secs_f64().max(1.0),
            shard_capacity: (capacity / SHARDS).max(2),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    fn shard(&self, key: &impl std::hash::Hash) -> (u64, &Mutex<Shard>) {
        let h = self.hasher.hash_one(key);
        (h, &self.shards[(h as usize) % SHARDS])
    }

    fn refilled(&self, b: Bucket, now: Instant) -> f64 {
        (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.per_sec).min(self.limit)
    }

    fn check(&self, key: &impl std::hash::Hash, now: Instant) -> Result<(), Duration> {
        let (h, shard) = self.shard(key);
        let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let Some(b) = shard.current.get(&h).or_else(|| shard.previous.get(&h)).copied() else {
            return Ok(());
        };
        let tokens = self.refilled(b, now);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_sec))
        }
    }

    fn consume(&self, key: &impl std::hash::Hash, now: Instant) {
        let (h, shard) = self.shard(key);
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let old = shard.current.remove(&h).or_else(|| shard.previous.remove(&h));
        let tokens = old.map_or(self.limit, |b| self.refilled(b, now));
        if shard.current.len() >= self.shard_capacity / 2 {
            shard.previous = std::mem::take(&mut shard.current);
        }
        shard.current.insert(h, Bucket { tokens: (tokens - 1.0).max(0.0), at: now });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().map(|s| s.current.len() + s.previous.len()).unwrap_or(0)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(900);

    #[test]
    fn five_failures_then_limited_until_a_token_returns() {
        let l = FailureLimiter::new(5, 100, WINDOW, 1000);
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(l.check(ip, Some("0000250427000004"), t0).is_ok());
            l.record_failure(ip, Some("0000250427000004"), t0);
        }
        let retry = l.check(ip, Some("0000250427000004"), t0).unwrap_err();
        assert!((179..=181).contains(&retry.as_secs()), "{retry:?}");
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(l.check(other, Some("0000250427000004"), t0).is_err(), "the order is limited for everyone");
        assert!(l.check(ip, Some("0000250427000005"), t0).is_ok());
        assert!(l.check(ip, Some("0000250427000004"), t0 + Duration::from_secs(181)).is_ok());
    }

    #[test]
    fn clients_are_limited_across_orders_and_ipv6_by_prefix() {
        let l = FailureLimiter::new(5, 3, WINDOW, 1000);
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..3 {
            l.record_failure(a, Some(&format!("000025042700000{i}")), t0);
        }
        assert!(l.check(b, None, t0).is_err(), "same /64");
        assert!(l.check("2001:db9::1".parse().unwrap(), None, t0).is_ok());
    }

    #[test]
    fn memory_stays_bounded() {
        let b = Buckets::new(5, WINDOW, 1600);
        let t0 = Instant::now();
        for i in 0..100_000u32 {
            b.consume(&i, t0);
        }
        assert!(b.len() <= 1600, "{}", b.len());
    }
}
