//! Free loopback ports. The OS picks a port for a socket bound to port 0;
//! the socket is closed at once and the port handed to a child process.
//! Another process could take it in between, which on a test machine is
//! rare enough; the callers fail loudly (server not ready) if it happens.

use std::net::{Ipv4Addr, TcpListener};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Two distinct free ports (bound together, so they cannot coincide).
pub fn free_ports() -> std::io::Result<(u16, u16)> {
    let a = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}
