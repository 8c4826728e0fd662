//! Which IP addresses outbound deliveries may connect to.
//!
//! A webhook sender is an open door into the network it runs in, so everything that is not
//! plainly a public unicast address is refused: loopback, private, link-local (cloud metadata),
//! CGNAT, multicast, documentation, benchmarking and reserved ranges, and the IPv6 forms that
//! embed an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the embedded address.
//! Only an explicit allowlist (set for the local stack and tests) opens a range.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

const BLOCKED_V4: &[&str] = &[
    "0.0.0.0/8",       // "this network"
    "10.0.0.0/8",      // private
    "100.64.0.0/10",   // carrier-grade NAT
    "127.0.0.0/8",     // loopback
    "169.254.0.0/16",  // link-local, cloud metadata (169.254.169.254)
    "172.16.0.0/12",   // private
    "192.0.0.0/24",    // IETF protocol assignments
    "192.0.2.0/24",    // documentation (TEST-NET-1)
    "192.88.99.0/24",  // 6to4 relay anycast
    "192.168.0.0/16",  // private
    "198.18.0.0/15",   // benchmarking
    "198.51.100.0/24", // documentation (TEST-NET-2)
    "203.0.113.0/24",  // documentation (TEST-NET-3)
    "224.0.0.0/4",     // multicast
    "240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
];

const BLOCKED_V6: &[&str] = &[
    "::/96",          // unspecified, loopback, IPv4-compatible (deprecated)
    "100::/64",       // discard-only
    "64:ff9b:1::/48", // local-use NAT64
    "2001::/23",      // IETF protocol assignments (Teredo, benchmarking, ORCHID…)
    "2001:db8::/32",  // documentation
    "fc00::/7",       // unique local (includes fd00:ec2::254, the EC2 IPv6 metadata address)
    "fe80::/10",      // link-local
    "fec0::/10",      // site-local (deprecated)
    "ff00::/8",       // multicast
];

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address {addr} is not a public unicast address ({range})")]
pub struct BlockedAddress {
    pub addr: IpAddr,
    pub range: String,
}

#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

impl AddressPolicy {
    /// The policy of a deployed stack: nothing internal is reachable.
    pub fn strict() -> Self {
        Self { allow: Vec::new() }
    }

    /// Opens the given ranges (local stack and tests only).
    pub fn with_allowlist(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    /// Parses a comma-separated CIDR list such as `127.0.0.1/32,::1/128`; empty means none.
    pub fn parse_allowlist(s: &str) -> Result<Vec<IpNet>, String> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                IpNet::from_str(p)
                    .or_else(|_| IpAddr::from_str(p).map(IpNet::from))
                    .map_err(|_| format!("`{p}` is not a CIDR range"))
            })
            .collect()
    }

    pub fn allowlist(&self) -> &[IpNet] {
        &self.allow
    }

    /// Ok when a delivery may connect to `addr`.
    pub fn check(&self, addr: IpAddr) -> Result<(), BlockedAddress> {
        let canonical = addr.to_canonical(); // ::ffff:a.b.c.d → a.b.c.d
        if self.allow.iter().any(|net| net.contains(&canonical)) {
            return Ok(());
        }
        match blocked_range(canonical) {
            None => Ok(()),
            Some(range) => Err(BlockedAddress { addr, range }),
        }
    }
}

/// The blocked range `addr` falls in, judging IPv6 forms that embed an IPv4 address by the
/// embedded address.
fn blocked_range(addr: IpAddr) -> Option<String> {
    match addr {
        IpAddr::V4(v4) => blocked_v4(v4).map(|n| n.to_string()),
        IpAddr::V6(v6) => {
            if let Some(net) = blocked_v6(v6) {
                return Some(net.to_string());
            }
            embedded_v4(v6).and_then(|v4| blocked_v4(v4).map(|n| format!("{n} embedded in {v6}")))
        }
    }
}

fn blocked_v4(addr: Ipv4Addr) -> Option<Ipv4Net> {
    BLOCKED_V4
        .iter()
        .filter_map(|s| Ipv4Net::from_str(s).ok())
        .find(|net| net.contains(&addr))
}

fn blocked_v6(addr: Ipv6Addr) -> Option<Ipv6Net> {
    BLOCKED_V6
        .iter()
        .filter_map(|s| Ipv6Net::from_str(s).ok())
        .find(|net| net.contains(&addr))
}

/// The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address.
fn embedded_v4(addr: Ipv6Addr) -> Option<Ipv4Addr> {
    let o = addr.octets();
    let nat64 = Ipv6Net::from_str("64:ff9b::/96").ok()?;
    let six_to_four = Ipv6Net::from_str("2002::/16").ok()?;
    if nat64.contains(&addr) {
        Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]))
    } else if six_to_four.contains(&addr) {
        Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn strict_policy_refuses_every_internal_range() {
        let policy = AddressPolicy::strict();
        for addr in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "100::1",
        ] {
            assert!(policy.check(ip(addr)).is_err(), "{addr} should be blocked");
        }
    }

    #[test]
    fn strict_policy_lets_public_addresses_through() {
        let policy = AddressPolicy::strict();
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:81b::200e",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(policy.check(ip(addr)).is_ok(), "{addr} should be allowed");
        }
    }

    #[test]
    fn allowlist_opens_exactly_its_ranges() {
        let allow = AddressPolicy::parse_allowlist("127.0.0.1/32, ::1").unwrap();
        let policy = AddressPolicy::with_allowlist(allow);
        assert!(policy.check(ip("127.0.0.1")).is_ok());
        assert!(
            policy.check(ip("::ffff:127.0.0.1")).is_ok(),
            "mapped form of an allowed v4"
        );
        assert!(policy.check(ip("::1")).is_ok());
        assert!(policy.check(ip("127.0.0.2")).is_err());
        assert!(policy.check(ip("10.0.0.1")).is_err());
        assert!(AddressPolicy::parse_allowlist("").unwrap().is_empty());
        assert!(AddressPolicy::parse_allowlist("127.0.0.1/33").is_err());
        assert!(AddressPolicy::parse_allowlist("localhost").is_err());
    }
}
