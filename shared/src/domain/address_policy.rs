//! Which IP addresses outbound deliveries may connect to.
//!
//! A webhook sender is an open door into the network it runs in, so everything that is not
//! plainly a public unicast address is refused. The refused ranges are derived from IANA's
//! special-purpose address registries (`iana/*.csv`, every entry: private, loopback,
//! link-local/cloud metadata, CGNAT, documentation, benchmarking, reserved, anycast service
//! prefixes…), plus multicast, and for IPv6 everything outside global unicast (`2000::/3`:
//! IPv4-compatible and IPv4-translated forms, site-local, multicast). IPv6 forms that embed an
//! IPv4 address (mapped, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the embedded
//! address. Only an explicit allowlist (set for the local stack and tests) opens a range.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::LazyLock;

use ipnet::{IpNet, Ipv6Net};

/// IANA IPv4 Special-Purpose Address Registry (iana-ipv4-special-registry).
const IANA_V4: &str = include_str!("iana/ipv4-special-registry.csv");
/// IANA IPv6 Special-Purpose Address Registry (iana-ipv6-special-registry).
const IANA_V6: &str = include_str!("iana/ipv6-special-registry.csv");

/// Never a receiver either, though outside the special-purpose registries.
const EXTRA: &[(&str, &str)] = &[
    ("224.0.0.0/4", "Multicast"),
    ("ff00::/8", "Multicast"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("::ffff:0:0:0/96", "IPv4-translated"),
    ("fec0::/10", "Site-local (deprecated)"),
];

/// Registry entries that carry an IPv4 address: judged by the address they embed instead.
const JUDGED_BY_EMBEDDED_V4: &[&str] = &["::ffff:0:0/96", "64:ff9b::/96", "2002::/16"];

fn judged_by_embedded_v4(net: &IpNet) -> bool {
    JUDGED_BY_EMBEDDED_V4
        .iter()
        .any(|s| IpNet::from_str(s).ok().as_ref() == Some(net))
}

/// One refused range and its registry name.
#[derive(Debug, Clone)]
pub struct SpecialRange {
    pub net: IpNet,
    pub name: String,
}

/// Parses a registry file: a header line, then `block,name,...` lines.
fn parse_registry(csv: &str) -> impl Iterator<Item = SpecialRange> + '_ {
    csv.lines().skip(1).filter_map(|line| {
        let mut fields = line.splitn(3, ',');
        let net = IpNet::from_str(fields.next()?.trim()).ok()?;
        let name = fields.next()?.trim().trim_matches('"').to_owned();
        Some(SpecialRange { net, name })
    })
}

/// Every range refused, most specific first (so a refusal names the narrowest entry).
pub fn refused_ranges() -> &'static [SpecialRange] {
    static RANGES: LazyLock<Vec<SpecialRange>> = LazyLock::new(|| {
        let mut all: Vec<SpecialRange> = parse_registry(IANA_V4)
            .chain(parse_registry(IANA_V6))
            .filter(|r| !judged_by_embedded_v4(&r.net))
            .chain(EXTRA.iter().filter_map(|(net, name)| {
                Some(SpecialRange {
                    net: IpNet::from_str(net).ok()?,
                    name: (*name).to_owned(),
                })
            }))
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.net.prefix_len()));
        all
    });
    &RANGES
}

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

/// The refused range `addr` falls in, judging IPv6 forms that embed an IPv4 address by the
/// embedded address.
fn blocked_range(addr: IpAddr) -> Option<String> {
    if let IpAddr::V6(v6) = addr
        && let Some(v4) = embedded_v4(v6)
    {
        return blocked_v4(v4).map(|r| format!("{r}, embedded in {v6}"));
    }
    if let Some(r) = refused_ranges().iter().find(|r| r.net.contains(&addr)) {
        return Some(format!("{} {}", r.net, r.name));
    }
    match addr {
        IpAddr::V6(v6) if !global_unicast().contains(&v6) => {
            Some("outside global unicast 2000::/3".into())
        }
        _ => None,
    }
}

fn blocked_v4(addr: Ipv4Addr) -> Option<String> {
    blocked_range(IpAddr::V4(addr))
}

fn global_unicast() -> Ipv6Net {
    Ipv6Net::new(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3).unwrap_or_default()
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

    fn registry_entries(csv: &str) -> Vec<(IpNet, String)> {
        let lines: Vec<&str> = csv.lines().skip(1).filter(|l| !l.is_empty()).collect();
        let parsed: Vec<(IpNet, String)> = parse_registry(csv).map(|r| (r.net, r.name)).collect();
        assert_eq!(parsed.len(), lines.len(), "every registry line parses");
        parsed
    }

    #[test]
    fn every_entry_of_both_iana_registries_is_refused() {
        let policy = AddressPolicy::strict();
        let entries: Vec<(IpNet, String)> = registry_entries(IANA_V4)
            .into_iter()
            .chain(registry_entries(IANA_V6))
            .collect();
        assert_eq!(entries.len(), 25 + 25);
        let mut judged = 0;
        for (net, name) in entries {
            if judged_by_embedded_v4(&net) {
                judged += 1;
                continue; // below: judged by the IPv4 address they carry
            }
            for addr in [net.network(), net.broadcast()] {
                assert!(
                    policy.check(addr).is_err(),
                    "{addr} ({net} {name}) should be refused"
                );
            }
        }
        assert_eq!(judged, 3);
        // Mapped, NAT64 and 6to4 addresses carry an IPv4 address: refused when it is.
        for (internal, public) in [
            ("::ffff:169.254.169.254", "::ffff:8.8.8.8"),
            ("64:ff9b::a9fe:a9fe", "64:ff9b::808:808"),
            ("2002:a9fe:a9fe::", "2002:808:808::"),
        ] {
            assert!(policy.check(ip(internal)).is_err(), "{internal}");
            assert!(policy.check(ip(public)).is_ok(), "{public}");
        }
    }

    #[test]
    fn ipv4_translated_and_other_non_global_ipv6_are_refused() {
        let policy = AddressPolicy::strict();
        for addr in [
            "::ffff:0:7f00:2",    // IPv4-translated 127.0.0.2
            "::ffff:0:a9fe:a9fe", // IPv4-translated 169.254.169.254
            "::ffff:0:808:808",   // IPv4-translated, even of a public address
            "::808:808",          // IPv4-compatible
            "4000::1",            // unassigned, outside 2000::/3
            "3fff::1",            // documentation (RFC 9637)
            "5f00::1",            // SRv6 SIDs
            "2001:1::1",          // PCP anycast
            "2620:4f:8000::1",    // AS112
        ] {
            let refused = policy.check(ip(addr));
            assert!(refused.is_err(), "{addr} should be refused");
        }
        let e = policy.check(ip("::ffff:0:7f00:2")).unwrap_err();
        assert!(e.range.contains("IPv4-translated"), "{}", e.range);
        let e = policy.check(ip("10.1.2.3")).unwrap_err();
        assert_eq!(e.range, "10.0.0.0/8 Private-Use");
        let e = policy.check(ip("192.0.0.9")).unwrap_err();
        assert_eq!(e.range, "192.0.0.9/32 Port Control Protocol Anycast");
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
