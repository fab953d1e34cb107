//! `loadgen agent --allow-target`: the only places an agent may send load.
//!
//! A workload's targets are `host:port` strings its plugin reports from the
//! run's options before it starts (`Plugin::targets`). An entry allows a
//! host on any port (`10.0.0.5`, `orders.svc`), one `host:port`, or every
//! address of a network (`10.0.0.0/24`). Names are compared as written,
//! never resolved: a target given as a name is allowed by a name entry only.

use std::net::IpAddr;
use std::str::FromStr;

/// One `--allow-target` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowTarget {
    /// A host name or address, on any port or on one.
    Host { host: String, port: Option<u16> },
    /// Every address of a network.
    Cidr { network: IpAddr, prefix: u8 },
}

impl FromStr for AllowTarget {
    type Err = String;

    fn from_str(raw: &str) -> Result<AllowTarget, String> {
        let s = raw.trim();
        let bad = |why: &str| format!("--allow-target '{raw}': {why} (HOST, HOST:PORT or CIDR)");
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if let Some((addr, prefix)) = s.split_once('/') {
            let network: IpAddr = addr.parse().map_err(|_| bad("not an IP network"))?;
            let max = if network.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = prefix
                .parse()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| bad("bad prefix length"))?;
            return Ok(AllowTarget::Cidr { network, prefix });
        }
        let (host, port) = split_host_port(s);
        let port = match port {
            None => None,
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad("bad port"))?),
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(bad("bad host"));
        }
        Ok(AllowTarget::Host {
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl std::fmt::Display for AllowTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllowTarget::Host { host, port: None } => write!(f, "{host}"),
            AllowTarget::Host {
                host,
                port: Some(p),
            } if host.contains(':') => write!(f, "[{host}]:{p}"),
            AllowTarget::Host {
                host,
                port: Some(p),
            } => write!(f, "{host}:{p}"),
            AllowTarget::Cidr { network, prefix } => write!(f, "{network}/{prefix}"),
        }
    }
}

/// `host:port`, `[v6]:port`, `host`, `v6` → (host without brackets, port).
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (s, None),
        };
    }
    match s.split_once(':') {
        // More than one colon: a bare IPv6 address, no port.
        Some((_, tail)) if tail.contains(':') => (s, None),
        Some((host, port)) => (host, Some(port)),
        None => (s, None),
    }
}

impl AllowTarget {
    /// Whether this entry allows the `host:port` target.
    pub fn allows(&self, target: &str) -> bool {
        let (host, port) = split_host_port(target.trim());
        let host = host.to_ascii_lowercase();
        let port = port.and_then(|p| p.parse::<u16>().ok());
        match self {
            AllowTarget::Host { host: h, port: p } => {
                let same_host = match (h.parse::<IpAddr>(), host.parse::<IpAddr>()) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => *h == host,
                };
                same_host && (p.is_none() || *p == port)
            }
            AllowTarget::Cidr { network, prefix } => host
                .parse::<IpAddr>()
                .is_ok_and(|ip| in_network(ip, *network, *prefix)),
        }
    }
}

fn in_network(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Why a workload may not start on this agent, if it may not: the first
/// target no entry allows, or a plugin that cannot say where it sends.
pub fn check_targets(
    allowed: &[AllowTarget],
    plugin: &str,
    targets: Option<&[String]>,
) -> Result<(), String> {
    if allowed.is_empty() {
        return Ok(());
    }
    let list = || {
        allowed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(targets) = targets else {
        return Err(format!(
            "plugin {plugin} cannot say where it sends, and this agent sends only to --allow-target {}",
            list()
        ));
    };
    match targets
        .iter()
        .find(|t| !allowed.iter().any(|a| a.allows(t)))
    {
        Some(t) => Err(format!(
            "target {t} is not in its --allow-target {}",
            list()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
