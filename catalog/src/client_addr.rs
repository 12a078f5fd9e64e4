//! Who is on the other end of the connection: [`ClientAddr`], an extractor for the client's
//! IP address, used by login throttling.
//!
//! The address is the TCP peer (axum's `ConnectInfo`, which [`crate::run`] provides). Only
//! when that peer is one of the `trusted_proxy` networks is `X-Forwarded-For` read: right to
//! left, skipping trusted proxies, the first other address is the client. Entries further
//! left were written by the client itself and prove nothing. Without `ConnectInfo` (an app
//! driven by `tower::ServiceExt::oneshot`) the address is unknown, and `X-Forwarded-For` is
//! not believed either: nothing shows it came through a trusted proxy.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use crate::startup::AppState;

/// The client's IP address, when known (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(ClientAddr(client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxy,
        )))
    }
}

/// `trusted_proxy`: the networks (`10.0.0.0/8`) or addresses (`10.0.0.5`) of the reverse
/// proxies in front of the catalog, whose `X-Forwarded-For` is believed. Empty (the
/// default): the header is ignored. In TOML a list of strings; in the environment one
/// string, comma-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8`-style networks and bare addresses.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut networks = Vec::new();
        for entry in entries.into_iter().map(str::trim).filter(|e| !e.is_empty()) {
            let network = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("{entry:?} is not an IP address or network such as 10.0.0.0/8")
                })?;
            networks.push(network);
        }
        Ok(TrustedProxies(networks))
    }

    /// True when `address` is in one of the networks (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|network| network.contains(&address))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Entries {
            One(String),
            Many(Vec<String>),
        }
        let parsed = match Entries::deserialize(deserializer)? {
            Entries::One(text) => TrustedProxies::parse(text.split(',')),
            Entries::Many(list) => TrustedProxies::parse(list.iter().map(String::as_str)),
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

/// The client's address from the TCP `peer` and, behind a trusted proxy, the
/// `X-Forwarded-For` headers.
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let mut client = peer?.to_canonical();
    if !trusted.contains(client) {
        return Some(client);
    }
    // Later headers and later entries were appended by proxies nearer to us.
    let entries = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
    for entry in entries {
        let Some(hop) = parse_hop(entry.trim()) else {
            // Garbage from a trusted hop: stop at the last address we can vouch for.
            return Some(client);
        };
        client = hop;
        if !trusted.contains(hop) {
            return Some(hop);
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` entry: an address, or an address with a port (`[::1]:443`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn without_a_trusted_proxy_the_peer_is_the_client_whatever_the_header_says() {
        let headers = forwarded(&["203.0.113.9"]);
        let none = TrustedProxies::default();
        assert_eq!(
            client_ip(Some(ip("198.51.100.1")), &headers, &none),
            Some(ip("198.51.100.1"))
        );
        let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        assert_eq!(
            client_ip(Some(ip("198.51.100.1")), &headers, &proxies),
            Some(ip("198.51.100.1")),
            "a peer outside the trusted networks is not believed"
        );
    }

    #[test]
    fn without_connection_info_the_address_is_unknown_even_with_the_header() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        assert_eq!(
            client_ip(None, &forwarded(&["203.0.113.9"]), &proxies),
            None
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8", "192.0.2.10"]).unwrap();
        let peer = Some(ip("10.1.2.3"));
        // The client forged the leftmost entry; the proxies appended the rest.
        let headers = forwarded(&["1.1.1.1, 203.0.113.9", "192.0.2.10"]);
        assert_eq!(client_ip(peer, &headers, &proxies), Some(ip("203.0.113.9")));
        assert_eq!(
            client_ip(peer, &forwarded(&["[2001:db8::7]:4711"]), &proxies),
            Some(ip("2001:db8::7"))
        );
        assert_eq!(
            client_ip(peer, &HeaderMap::new(), &proxies),
            Some(ip("10.1.2.3")),
            "no header: the proxy itself"
        );
        assert_eq!(
            client_ip(peer, &forwarded(&["not an address"]), &proxies),
            Some(ip("10.1.2.3"))
        );
    }

    #[test]
    fn trusted_proxies_parse_networks_and_addresses_and_refuse_the_rest() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8", " ::1 ", ""]).unwrap();
        assert!(proxies.contains(ip("10.200.0.1")));
        assert!(proxies.contains(ip("::ffff:10.0.0.1")));
        assert!(proxies.contains(ip("::1")));
        assert!(!proxies.contains(ip("11.0.0.1")));
        let message = TrustedProxies::parse(["10.0.0.0/33"]).unwrap_err();
        assert!(message.contains("10.0.0.0/33"), "{message}");
    }
}
