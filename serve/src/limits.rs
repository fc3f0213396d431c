//! Fair limits on what clients may ask of the board.
//!
//! Voters behind one address (a university's NAT, an office proxy) must not share one budget,
//! and reads must never starve submissions:
//!
//! - **Reads** draw on a token bucket per client address, and at most
//!   [`Limits::max_reads_in_flight`] are served at once. Submissions draw on neither.
//! - **Submissions** draw on a bucket per *credential*: the entry's author key, read from the
//!   envelope without verifying anything. A credential's budget spent by submissions whose
//!   signature was never checked cannot lock its holder out: once it is spent, a submission
//!   whose signature verifies draws on a second, equal budget that only the key's holder can
//!   spend, and one whose signature fails draws on its address's budget for unattributed
//!   submissions instead.
//! - **Unattributed submissions** (bytes that are not an entry envelope, or forged ones as
//!   above) draw on a bucket per address.
//!
//! A bucket refills at `rate` tokens a second up to `burst`; a refused request is told when a
//! token will be there (`Retry-After`). A full bucket is the same as no bucket, so buckets that
//! have refilled are forgotten and the maps stay bounded by recent activity.
//!
//! The client address is the TCP peer's, unless the peer is a trusted proxy
//! ([`Limits::trusted_proxies`]): then it is the address the proxies report in `Forwarded`
//! (RFC 7239) or, without that header, `X-Forwarded-For` — the rightmost one that is not itself
//! a trusted proxy, since everything to its left was written by the client and may be forged.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use tokio::sync::Semaphore;
use urna_election::entry::Entry;

/// The limits a board serves under (every one configurable on `urna board serve`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Reads per second each client address may sustain, and its burst above that.
    pub read_rate: f64,
    pub read_burst: f64,
    /// Submissions per second each credential may sustain, and its burst.
    pub submit_rate: f64,
    pub submit_burst: f64,
    /// Submissions per second from one address that name no credential (or a forged one).
    pub unattributed_rate: f64,
    pub unattributed_burst: f64,
    /// Reads being served at once, across all clients; more get 503.
    pub max_reads_in_flight: usize,
    /// A request (including reading its body and waiting for the writer) that takes longer
    /// gets 408.
    pub timeout: Duration,
    /// A connection that has not sent a request's whole header within this time (including an
    /// idle kept-alive connection) is closed.
    pub header_timeout: Duration,
    /// A request body that has not arrived in full within this time gets 408, and the
    /// connection is closed.
    pub body_timeout: Duration,
    /// Connections open at once from one address (trusted proxies are exempt); more are
    /// answered 429 and closed.
    pub max_connections_per_address: usize,
    /// Peers whose `Forwarded` / `X-Forwarded-For` headers name the real client.
    pub trusted_proxies: Vec<IpNet>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            read_rate: 1000.0,
            read_burst: 2000.0,
            submit_rate: 10.0,
            submit_burst: 50.0,
            unattributed_rate: 50.0,
            unattributed_burst: 100.0,
            max_reads_in_flight: 4096,
            timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(15),
            max_connections_per_address: 256,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Limits {
    /// No rate limits (benchmarks, tests that measure something else); the timeouts and the
    /// connection limit stay.
    pub fn unlimited() -> Limits {
        Limits {
            read_rate: 1e9,
            read_burst: 1e9,
            submit_rate: 1e9,
            submit_burst: 1e9,
            unattributed_rate: 1e9,
            unattributed_burst: 1e9,
            max_connections_per_address: 1 << 20,
            ..Limits::default()
        }
    }

    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(ip))
    }
}

/// An IP network: an address and a prefix length (`10.0.0.0/8`, `2001:db8::/32`, or a single
/// address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`, as dual-stack sockets report) is the
/// IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<IpNet, String> {
        let bad = || format!("{s:?} is not an IP address or CIDR range (e.g. 10.0.0.0/8)");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|&p| p <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

/// The client address of a request from `peer` (see the module documentation).
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, limits: &Limits) -> IpAddr {
    let peer = canonical(peer);
    if !limits.is_trusted_proxy(peer) {
        return peer;
    }
    let hops = forwarded_for(headers);
    // From the nearest hop outwards: the first address not a trusted proxy is the client.
    // An address a proxy could not name (`unknown`, an obfuscated one) ends the walk there.
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if limits.is_trusted_proxy(*ip) => client = *ip,
            Some(ip) => return *ip,
            None => return client,
        }
    }
    client
}

/// The addresses the proxies report, leftmost (farthest) first: from `Forwarded`'s `for=`
/// parameters, or, without that header, `X-Forwarded-For`. `None` for one that is not an IP.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| node_ip(v.trim()))
                })
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| node_ip(a.trim()))
        .collect()
}

/// An RFC 7239 node (`192.0.2.43`, `"192.0.2.43:47011"`, `"[2001:db8::17]:4711"`), or a bare
/// address as in `X-Forwarded-For`.
fn node_ip(node: &str) -> Option<IpAddr> {
    let node = node.trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok().map(canonical);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key, all with the same rate and burst.
struct Buckets<K> {
    map: HashMap<K, Bucket>,
    rate: f64,
    burst: f64,
    sweep_above: usize,
}

/// Longest wait a refusal asks for.
const MAX_RETRY_AFTER: f64 = 3600.0;

impl<K: Hash + Eq> Buckets<K> {
    fn new(rate: f64, burst: f64) -> Self {
        Buckets {
            map: HashMap::new(),
            rate: rate.max(0.0),
            burst: burst.max(1.0),
            sweep_above: 4096,
        }
    }

    fn refilled(&self, b: &Bucket, now: Instant) -> f64 {
        (b.tokens + now.duration_since(b.at).as_secs_f64() * self.rate).min(self.burst)
    }

    /// Takes a token for `key`, or says how long until one is there.
    fn take(&mut self, key: K, now: Instant) -> Result<(), Duration> {
        if self.map.len() > self.sweep_above {
            let (rate, burst) = (self.rate, self.burst);
            self.map
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
            self.sweep_above = (2 * self.map.len()).max(4096);
        }
        let burst = self.burst;
        let tokens = match self.map.get(&key) {
            Some(b) => self.refilled(b, now),
            None => burst,
        };
        let b = self.map.entry(key).or_insert(Bucket { tokens, at: now });
        b.at = now;
        if tokens >= 1.0 {
            b.tokens = tokens - 1.0;
            Ok(())
        } else {
            b.tokens = tokens;
            let wait = if self.rate > 0.0 {
                ((1.0 - tokens) / self.rate).min(MAX_RETRY_AFTER)
            } else {
                MAX_RETRY_AFTER
            };
            Err(Duration::from_secs_f64(wait.max(0.0)))
        }
    }
}

/// Why a request was refused, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
    pub why: &'static str,
}

/// The board's limiter: the buckets of [`Limits`] and the bound on reads in flight.
pub struct Limiter {
    pub limits: Limits,
    reads: Mutex<Buckets<IpAddr>>,
    credentials: Mutex<Buckets<[u8; 32]>>,
    verified: Mutex<Buckets<[u8; 32]>>,
    unattributed: Mutex<Buckets<IpAddr>>,
    pub reads_in_flight: Arc<Semaphore>,
}

/// The buckets hold no invariant a panic elsewhere could break: take them even if poisoned.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter {
            reads: Mutex::new(Buckets::new(limits.read_rate, limits.read_burst)),
            credentials: Mutex::new(Buckets::new(limits.submit_rate, limits.submit_burst)),
            verified: Mutex::new(Buckets::new(limits.submit_rate, limits.submit_burst)),
            unattributed: Mutex::new(Buckets::new(
                limits.unattributed_rate,
                limits.unattributed_burst,
            )),
            reads_in_flight: Arc::new(Semaphore::new(limits.max_reads_in_flight)),
            limits,
        }
    }

    pub fn admit_read(&self, addr: IpAddr) -> Result<(), Refused> {
        lock(&self.reads)
            .take(addr, Instant::now())
            .map_err(|retry_after| Refused {
                retry_after,
                why: "too many requests from this address",
            })
    }

    /// Admits a submission from `addr` whose bytes decoded to `entry` (`None` if they are not
    /// an entry envelope).
    pub fn admit_submission(&self, addr: IpAddr, entry: Option<&Entry>) -> Result<(), Refused> {
        let now = Instant::now();
        let unattributed = |why| {
            lock(&self.unattributed)
                .take(addr, now)
                .map_err(|retry_after| Refused { retry_after, why })
        };
        let Some(entry) = entry else {
            return unattributed("too many submissions that are not entries from this address");
        };
        let key = *entry.author().as_bytes();
        if lock(&self.credentials).take(key, now).is_ok() {
            return Ok(());
        }
        if entry.verify_signature().is_err() {
            return unattributed("too many submissions with bad signatures from this address");
        }
        lock(&self.verified)
            .take(key, now)
            .map_err(|retry_after| Refused {
                retry_after,
                why: "too many submissions for this credential",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_contain() {
        assert!(net("10.0.0.0/8").contains(ip("10.200.3.4")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(net("192.168.1.5").contains(ip("192.168.1.5")));
        assert!(!net("192.168.1.5").contains(ip("192.168.1.6")));
        assert!(net("172.16.0.0/12").contains(ip("172.31.255.255")));
        assert!(!net("172.16.0.0/12").contains(ip("172.32.0.0")));
        assert!(net("2001:db8::/32").contains(ip("2001:db8:1::7")));
        assert!(!net("2001:db8::/32").contains(ip("2001:db9::7")));
        assert!(net("0.0.0.0/0").contains(ip("8.8.8.8")));
        // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
        assert!(net("127.0.0.1").contains(ip("::ffff:127.0.0.1")));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0/8",
            "::1/129",
            "x",
            "10.0.0.0/+8",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_client_address_is_taken_only_from_trusted_proxies() {
        let limits = Limits {
            trusted_proxies: vec![net("10.0.0.0/8")],
            ..Limits::default()
        };
        let xff = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7")]);
        // An untrusted peer's headers are ignored.
        assert_eq!(client_addr(ip("192.0.2.1"), &xff, &limits), ip("192.0.2.1"));
        // A trusted proxy's: the rightmost address that is not a trusted proxy (the one to its
        // left could be anything the client wrote).
        assert_eq!(
            client_addr(ip("10.1.1.1"), &xff, &limits),
            ip("198.51.100.7")
        );
        let chain = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.2.2.2")]);
        assert_eq!(
            client_addr(ip("10.1.1.1"), &chain, &limits),
            ip("198.51.100.7")
        );
        // Forwarded wins over X-Forwarded-For; quoted, with ports, IPv6 in brackets.
        let fwd = headers(&[
            (
                "forwarded",
                "for=203.0.113.9;proto=https, for=\"[2001:db8::17]:4711\"",
            ),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(
            client_addr(ip("10.1.1.1"), &fwd, &limits),
            ip("2001:db8::17")
        );
        let port = headers(&[("forwarded", "For=\"192.0.2.43:47011\"")]);
        assert_eq!(
            client_addr(ip("10.1.1.1"), &port, &limits),
            ip("192.0.2.43")
        );
        // A hop the proxy could not name: the nearest named one stands for the client.
        let hidden = headers(&[("forwarded", "for=_hidden, for=10.3.3.3")]);
        assert_eq!(
            client_addr(ip("10.1.1.1"), &hidden, &limits),
            ip("10.3.3.3")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_addr(ip("10.1.1.1"), &HeaderMap::new(), &limits),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn buckets_refill_say_when_and_forget_full_ones() {
        let mut b: Buckets<u32> = Buckets::new(2.0, 3.0);
        let t = Instant::now();
        for _ in 0..3 {
            assert!(b.take(1, t).is_ok());
        }
        let wait = b.take(1, t).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another key has its own budget.
        assert!(b.take(2, t).is_ok());
        // Half a second later one token is back.
        let later = t + Duration::from_millis(500);
        assert!(b.take(1, later).is_ok());
        assert!(b.take(1, later).is_err());
        // A stream of one-off keys (a millisecond apart) does not pile up: each bucket is full
        // again half a second after its use, and full ones are swept.
        for k in 10..20_000u32 {
            let _ = b.take(k, later + Duration::from_millis(u64::from(k)));
        }
        assert!(b.map.len() < 5000, "{}", b.map.len());
        let mut never: Buckets<u32> = Buckets::new(0.0, 1.0);
        assert!(never.take(1, t).is_ok());
        assert_eq!(
            never.take(1, t).unwrap_err(),
            Duration::from_secs_f64(MAX_RETRY_AFTER)
        );
    }
}
