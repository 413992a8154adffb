//! `umsgate check`'s listen addresses: can each one be bound, and if not, who holds it.
//!
//! Contract: every address umsgate would listen on — each enabled instance's
//! `smtp_in.listen` (and a Kannel gateway's callback `listen`), `metrics.listen`,
//! `web.listen` — gets one line. Free: `ok`. Taken by
//! the running `umsgate run` of this configuration (the process the pid file in `state_dir`
//! names holds the listening socket): `ok`, saying so. Taken by anything else, or not
//! bindable at all (an address this machine does not have, a port below 1024 without the
//! privilege): `FAILED` with the reason. Port 0 (any free port) is not tried.
//!
//! Implementation summary: a bind with `std::net::TcpListener`, dropped at once. Who holds a
//! taken port is read from Linux's `/proc/net/tcp{,6}` (the listening socket's inode) and the
//! pid's `/proc/<pid>/fd` links; when those cannot be read (another user's process), a live
//! pid file alone is reported as "probably" the service.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::Path;

use umsgate::config::Config;

/// A `listen` key: one address, or several.
pub(crate) trait ListenKey {
    fn addrs(&self) -> Vec<SocketAddr>;
}

impl ListenKey for SocketAddr {
    fn addrs(&self) -> Vec<SocketAddr> {
        vec![*self]
    }
}

impl ListenKey for Vec<SocketAddr> {
    fn addrs(&self) -> Vec<SocketAddr> {
        self.clone()
    }
}

/// What to try: a label for the line and the address. `all`: disabled instances too.
pub(crate) fn listen_addresses(config: &Config, all: bool) -> Vec<(String, SocketAddr)> {
    let mut out = Vec::new();
    for inst in config.instances.iter().filter(|i| all || i.enabled) {
        for a in inst.smtp_in.listen.get_ref() {
            out.push((
                format!("instance {}: smtp_in.listen", inst.id.get_ref()),
                *a,
            ));
        }
        if inst.gateway.kind == umsgate::config::GatewayKind::Kannel {
            out.push((
                format!("instance {}: gateway.kannel.listen", inst.id.get_ref()),
                inst.gateway.kannel.listen,
            ));
        }
    }
    if let Some(m) = &config.service.metrics {
        for a in m.listen.addrs() {
            out.push(("service: metrics.listen".to_owned(), a));
        }
    }
    if let Some(w) = &config.service.web {
        for a in w.listen.addrs() {
            out.push(("service: web.listen".to_owned(), a));
        }
    }
    out
}

/// The addresses `umsgate run` listens on: those of the enabled instances and the service.
pub(crate) fn addresses(config: &Config) -> Vec<(String, SocketAddr)> {
    listen_addresses(config, false)
}

/// The verdict on one address: `Ok(text)` or `Err(reason)`.
pub(crate) fn try_bind(addr: SocketAddr, service_pid: Option<u32>) -> Result<String, String> {
    if addr.port() == 0 {
        return Ok(format!("{addr}: any free port"));
    }
    match TcpListener::bind(addr) {
        Ok(_) => Ok(format!("{addr}: free")),
        Err(e) if e.kind() == ErrorKind::AddrInUse => match service_pid {
            Some(pid) => match held_by(addr, pid) {
                Some(true) => Ok(format!("{addr}: held by the running umsgate (pid {pid})")),
                Some(false) => Err(format!(
                    "{addr}: in use by another program (umsgate pid {pid} runs but does not hold it)"
                )),
                None => Ok(format!(
                    "{addr}: in use, probably by the running umsgate (pid {pid}; its sockets cannot be read)"
                )),
            },
            None => Err(format!("{addr}: in use")),
        },
        Err(e) => Err(format!("{addr}: cannot listen: {e}")),
    }
}

/// Whether process `pid` holds the socket listening on `addr`; `None` when unknown.
fn held_by(addr: SocketAddr, pid: u32) -> Option<bool> {
    let inodes = listening_inodes(addr);
    if inodes.is_empty() {
        return None;
    }
    let fds = std::fs::read_dir(Path::new("/proc").join(pid.to_string()).join("fd")).ok()?;
    let mut readable = false;
    for fd in fds.flatten() {
        let Ok(target) = std::fs::read_link(fd.path()) else {
            continue;
        };
        readable = true;
        let t = target.to_string_lossy();
        if let Some(inode) = t
            .strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
            .and_then(|s| s.parse::<u64>().ok())
            && inodes.contains(&inode)
        {
            return Some(true);
        }
    }
    readable.then_some(false)
}

/// Inodes of the sockets in state LISTEN whose address covers `addr`.
fn listening_inodes(addr: SocketAddr) -> Vec<u64> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
                continue;
            };
            if *state != "0A" {
                continue;
            }
            let Some((ip, port)) = parse_proc_addr(local) else {
                continue;
            };
            let covers = port == addr.port()
                && (ip == addr.ip() || ip.is_unspecified() || addr.ip().is_unspecified());
            if covers && let Ok(i) = inode.parse() {
                out.push(i);
            }
        }
    }
    out
}

/// `0100007F:277A` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host order.
fn parse_proc_addr(s: &str) -> Option<(IpAddr, u16)> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |h: &str| u32::from_str_radix(h, 16).ok().map(u32::from_be);
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(ip)?.to_be_bytes())),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                let w = word(ip.get(i * 8..i * 8 + 8)?)?;
                chunk.copy_from_slice(&w.to_be_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_addresses_are_read_in_host_order() {
        assert_eq!(
            parse_proc_addr("0100007F:277A"),
            Some((
                "127.0.0.1"
                    .parse()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                10106
            ))
        );
        assert_eq!(
            parse_proc_addr("00000000000000000000000001000000:0050"),
            Some((IpAddr::V6(Ipv6Addr::LOCALHOST), 80))
        );
        assert_eq!(parse_proc_addr("zz:1"), None);
    }

    #[test]
    fn a_port_held_here_is_found_in_proc_and_refused_to_strangers() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = held.local_addr().unwrap_or_else(|e| panic!("{e}"));
        assert!(try_bind(addr, None).is_err_and(|e| e.ends_with("in use")));
        let me = std::process::id();
        let r = try_bind(addr, Some(me));
        assert!(
            r.as_ref()
                .is_ok_and(|s| s.contains("held by the running umsgate")),
            "{r:?}"
        );
        drop(held);
        assert!(try_bind(addr, None).is_ok_and(|s| s.ends_with("free")));
    }
}
