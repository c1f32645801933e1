//! The client's IP address: the socket's peer, unless the peer is a proxy
//! the host trusts, in which case the proxy's `X-Forwarded-For` (or
//! `Forwarded`) header is read from the right, skipping trusted hops.
//!
//! ```
//! use std::net::IpAddr;
//! use axum::http::HeaderMap;
//! use portal_access_axum::TrustedProxies;
//!
//! let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
//! let mut headers = HeaderMap::new();
//! headers.insert("x-forwarded-for", "198.51.100.7, 10.0.0.3".parse().unwrap());
//! let peer: IpAddr = "10.0.0.2".parse().unwrap();
//! assert_eq!(proxies.client_ip(Some(peer), &headers), Some("198.51.100.7".parse().unwrap()));
//!
//! // A peer that is not trusted is the client, whatever it claims.
//! let stranger: IpAddr = "203.0.113.9".parse().unwrap();
//! assert_eq!(proxies.client_ip(Some(stranger), &headers), Some(stranger));
//! ```

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

/// A network in CIDR form (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u32::from(net) & mask) == (u32::from(ip) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = InvalidProxyList;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidProxyList(text.to_owned());
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address = IpAddr::from_str(address.trim())
            .map_err(|_| invalid())?
            .to_canonical();
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| invalid())?,
            None => max,
        };
        if prefix > max {
            return Err(invalid());
        }
        Ok(Self { address, prefix })
    }
}

/// A trusted-proxy list that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or CIDR network (e.g. 10.0.0.0/8, ::1)")]
pub struct InvalidProxyList(String);

/// Which header trusted proxies set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the common one).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// The proxies whose forwarding header is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Network>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// No proxy is trusted: the client IP is the socket's peer.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses a comma- or space-separated list of addresses and CIDR
    /// networks, e.g. `"10.0.0.0/8, 127.0.0.1, ::1"`.
    pub fn parse(list: &str) -> Result<Self, InvalidProxyList> {
        let networks = list
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Network::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            networks,
            header: ForwardedHeader::default(),
        })
    }

    /// Reads this header from trusted proxies (default `X-Forwarded-For`).
    pub fn with_header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// Whether any proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client's IP, from the socket's `peer` and the request headers.
    ///
    /// Hops are read right to left (the right-most is the one the nearest
    /// proxy added); the first hop that is not a trusted proxy is the
    /// client. A hop that does not parse stops the walk at the last hop a
    /// trusted proxy vouched for.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(|ip| ip.to_canonical());
        let mut current = peer?;
        if !self.trusts(current) {
            return Some(current);
        }
        let hops = match self.header {
            ForwardedHeader::XForwardedFor => header_values(headers, "x-forwarded-for")
                .flat_map(|v| {
                    v.split(',')
                        .map(|s| parse_xff_hop(s.trim()))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>(),
            ForwardedHeader::Forwarded => header_values(headers, "forwarded")
                .flat_map(|v| {
                    v.split(',')
                        .map(parse_forwarded_element)
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>(),
        };
        for hop in hops.into_iter().rev() {
            match hop {
                Some(ip) => {
                    current = ip.to_canonical();
                    if !self.trusts(current) {
                        return Some(current);
                    }
                }
                None => return Some(current),
            }
        }
        Some(current)
    }
}

fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
}

/// `203.0.113.7`, `203.0.113.7:443`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = IpAddr::from_str(text) {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return IpAddr::from_str(ip).ok();
    }
    let (ip, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    IpAddr::from_str(ip).ok().filter(IpAddr::is_ipv4)
}

fn parse_xff_hop(text: &str) -> Option<IpAddr> {
    parse_node(text)
}

/// One element of `Forwarded`: `for=192.0.2.60;proto=http;by=203.0.113.43`.
fn parse_forwarded_element(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        parse_node(value.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client address `proxies` see for a request from `peer` that
    /// carries `header: value`.
    fn seen(proxies: &TrustedProxies, peer: &str, header: (&'static str, &str)) -> IpAddr {
        let mut h = HeaderMap::new();
        h.insert(header.0, header.1.parse().unwrap());
        proxies.client_ip(Some(ip(peer)), &h).expect("an address")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn trusting(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    const XFF: &str = "x-forwarded-for";

    #[test]
    fn without_trusted_proxies_the_socket_peer_is_the_client() {
        let none = TrustedProxies::none();
        assert_eq!(seen(&none, "10.0.0.1", (XFF, "1.2.3.4")), ip("10.0.0.1"));
    }

    #[test]
    fn a_spoofed_left_hop_is_ignored_behind_a_trusted_proxy() {
        // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the real peer.
        let header = (XFF, "6.6.6.6, 198.51.100.1");
        let client = seen(&trusting("10.0.0.0/8"), "10.1.2.3", header);
        assert_eq!(client, ip("198.51.100.1"));
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked() {
        let chain = (XFF, "198.51.100.1, 192.168.0.1, 10.9.9.9");
        let client = seen(&trusting("10.0.0.0/8, 192.168.0.1"), "10.0.0.1", chain);
        assert_eq!(client, ip("198.51.100.1"));
    }

    #[test]
    fn garbage_in_the_header_stops_at_the_last_vouched_hop() {
        let client = seen(&trusting("10.0.0.0/8"), "10.0.0.1", (XFF, "nonsense"));
        assert_eq!(client, ip("10.0.0.1"));
    }

    #[test]
    fn the_forwarded_header_is_read_with_quotes_and_ports() {
        let proxies = trusting("::1").with_header(ForwardedHeader::Forwarded);
        let value = "for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";proto=https";
        let client = seen(&proxies, "::1", ("forwarded", value));
        assert_eq!(client, ip("2001:db8:cafe::17"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let client = seen(
            &trusting("127.0.0.1"),
            "::ffff:127.0.0.1",
            (XFF, "198.51.100.1"),
        );
        assert_eq!(client, ip("198.51.100.1"));
    }

    #[test]
    fn bad_lists_are_refused() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("example.com").is_err());
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }
}
