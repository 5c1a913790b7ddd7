//! Callbacks to buyers' systems: which URLs may be called (no request to loopback,
//! private, link-local or metadata addresses unless the operator allows them), how a
//! callback is signed, and when a failed one is tried again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::TimeDelta;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header (api.md): `t=<unix>,v1=<hex hmac-sha256 of "t.body">`.
pub const SIGNATURE_HEADER: &str = "X-Leadmarket-Signature";
/// Stable per delivery across retries, so a receiver can drop repeats.
pub const DELIVERY_ID_HEADER: &str = "X-Leadmarket-Delivery";

/// The header value signing `body` at `unix` seconds with the order's `secret`.
pub fn signature(secret: &str, unix: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(unix.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` signs `body` with `secret` (what a receiver checks; the tests do).
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}

/// Whether `ip` is on the public internet: not loopback, private (10/8, 172.16/12,
/// 192.168/16, fc00::/7), link-local (169.254/16 with the cloud metadata address,
/// fe80::/10), shared (100.64/10), unspecified, broadcast, documentation, multicast or
/// reserved. IPv4-mapped IPv6 addresses are judged as their IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b)
}

/// A callback URL as saved on an order: checked for what can be known without DNS
/// (scheme, host, literal addresses, local names). The caller resolves the host and
/// checks each address with [`is_public`] when saving, and again when connecting.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let raw = raw.trim();
    let url = url::Url::parse(raw).map_err(|_| {
        format!(
            "{raw:?} is not a URL; give the full address, such as https://crm.example.com/leads"
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err("callbacks go only to https:// addresses".into()),
        other => {
            return Err(format!(
                "callbacks go only to https:// addresses, not {other}:"
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("put no user name or password in the URL; verify our signature instead".into());
    }
    let host = url
        .host()
        .ok_or_else(|| "the URL has no host".to_string())?;
    if allow_private {
        return Ok(url);
    }
    let refused = || {
        "callbacks go only to public addresses, not to loopback, private, link-local or metadata ones".to_string()
    };
    match host {
        url::Host::Ipv4(ip) if !is_public(IpAddr::V4(ip)) => return Err(refused()),
        url::Host::Ipv6(ip) if !is_public(IpAddr::V6(ip)) => return Err(refused()),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let local = name == "localhost"
                || name.ends_with(".localhost")
                || name.ends_with(".local")
                || name.ends_with(".internal")
                || !name.contains('.');
            if local {
                return Err(refused());
            }
        }
        _ => {}
    }
    Ok(url)
}

/// How long after the `attempts`-th failed try (1 = the first) the next one waits,
/// with `jitter` in `[0, 1)` spreading retries of many deliveries apart; `None` once
/// the tries have spanned a day (`since_first`): the delivery is dead.
pub fn retry_after(attempts: i32, since_first: TimeDelta, jitter: f64) -> Option<TimeDelta> {
    if since_first >= TimeDelta::hours(24) {
        return None;
    }
    // 5 s, 10 s, 20 s ... capped at an hour; jitter adds up to half again.
    let base_secs = 5_i64
        .saturating_mul(1_i64 << (attempts.clamp(1, 20) - 1))
        .min(3600);
    let extra = (base_secs as f64 * 0.5 * jitter.clamp(0.0, 1.0)) as i64;
    Some(TimeDelta::seconds(base_secs + extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_body_does_not() {
        let h = signature("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify("s3cret", &h, b"{\"a\":1}"));
        assert!(!verify("s3cret", &h, b"{\"a\":2}"));
        assert!(!verify("other", &h, b"{\"a\":1}"));
        assert!(!verify("s3cret", "v1=00", b"{\"a\":1}"));
    }

    #[test]
    fn loopback_private_link_local_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn callback_urls_must_be_https_to_a_public_host() {
        assert!(check_url("https://crm.example.com/hook", false).is_ok());
        for bad in [
            "http://crm.example.com/hook",
            "ftp://crm.example.com/",
            "file:///etc/passwd",
            "https://localhost/hook",
            "https://127.0.0.1/hook",
            "https://10.0.0.5/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://intranet/hook",
            "https://user:pw@crm.example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:8080/hook", true).is_ok());
    }

    #[test]
    fn retries_start_within_ten_seconds_grow_and_stop_after_a_day() {
        let first = retry_after(1, TimeDelta::zero(), 0.99).unwrap();
        assert!(first <= TimeDelta::seconds(10));
        let later = retry_after(6, TimeDelta::minutes(10), 0.0).unwrap();
        assert!(later > first);
        assert_eq!(
            retry_after(40, TimeDelta::hours(2), 0.0),
            Some(TimeDelta::seconds(3600))
        );
        assert_eq!(retry_after(3, TimeDelta::hours(24), 0.0), None);
    }
}
