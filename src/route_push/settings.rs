//! `[routes]`: the SF route push receiver's listener, secret path and address allow-list, and the
//! route polling fallback's pace.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::outbound::courier::Secret;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouteSettings {
    /// Address and port `keydesk routes serve` listens on (behind the site's TLS proxy).
    pub listen: String,
    /// The secret path SF posts to, e.g. "/sf/routes/4f0c…" (long and random). Empty: the receiver
    /// refuses to start. Never logged.
    pub secret_path: Secret,
    /// Addresses (or CIDR blocks) allowed to post: SF's push servers as SF names them, or the proxy.
    /// Empty: the receiver refuses to start.
    pub allow: Vec<String>,
    /// Refuse pushes that carry no `msgDigest` (a digest that is present is always checked, with
    /// `courier.check_word`).
    pub require_digest: bool,
    /// Largest push body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds a push may take, reading included.
    pub request_timeout_secs: u64,
    /// Days after SF delivered a returned key that the order completes by itself when the member has
    /// not confirmed receipt (确认收货) first. 0: never.
    pub auto_complete_days: u32,
    /// Working days after SF delivered an inbound parcel that the board flags it as lost in the mail
    /// room when the desk has not scanned it.
    pub lost_after_working_days: u32,
}

impl Default for RouteSettings {
    fn default() -> Self {
        RouteSettings {
            listen: "127.0.0.1:8091".into(),
            secret_path: Secret::default(),
            allow: Vec::new(),
            require_digest: false,
            max_body_bytes: 256 * 1024,
            request_timeout_secs: 10,
            auto_complete_days: 7,
            lost_after_working_days: 1,
        }
    }
}

impl RouteSettings {
    /// How long after delivery an unconfirmed order completes by itself; `None`: never.
    pub fn auto_complete_after(&self) -> Option<chrono::TimeDelta> {
        (self.auto_complete_days > 0).then(|| chrono::TimeDelta::days(i64::from(self.auto_complete_days)))
    }
}

/// One entry of the allow-list: an address, or a block `ADDR/BITS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedNet {
    addr: IpAddr,
    bits: u8,
}

impl AllowedNet {
    pub fn parse(text: &str) -> Result<AllowedNet, String> {
        let text = text.trim();
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => b.parse::<u8>().ok().filter(|&b| b <= max).ok_or_else(|| format!("{text:?}: bad prefix"))?,
        };
        Ok(AllowedNet { addr, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.bits),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.bits),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits);
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

impl RouteSettings {
    /// The allow-list parsed; an error names the bad entry.
    pub fn allowed(&self) -> Result<Vec<AllowedNet>, String> {
        self.allow.iter().map(|a| AllowedNet::parse(a)).collect()
    }

    /// What must hold before the receiver starts (config validation uses it too).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(("routes.listen", "must be an address and port, e.g. \"127.0.0.1:8091\"".into()));
        }
        let path = self.secret_path.expose();
        if !path.is_empty() && (!path.starts_with('/') || path.len() < 17) {
            return Err(("routes.secret_path", "must start with / and be at least 16 characters after it".into()));
        }
        self.allowed().map_err(|e| ("routes.allow", e))?;
        if self.max_body_bytes < 1024 {
            return Err(("routes.max_body_bytes", "must be at least 1024".into()));
        }
        if self.request_timeout_secs == 0 {
            return Err(("routes.request_timeout_secs", "must be at least 1".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matches_addresses_and_blocks() {
        let net = AllowedNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = AllowedNet::parse("192.168.1.7").unwrap();
        assert!(one.contains("192.168.1.7".parse().unwrap()) && !one.contains("192.168.1.8".parse().unwrap()));
        assert!(AllowedNet::parse("10.0.0.0/33").is_err() && AllowedNet::parse("sf.com").is_err());
        assert!(AllowedNet::parse("10.0.0.0/12").unwrap().contains("10.15.255.255".parse().unwrap()));
        assert!(!AllowedNet::parse("10.0.0.0/12").unwrap().contains("10.16.0.0".parse().unwrap()));
    }
}
