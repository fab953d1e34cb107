#!/usr/bin/env python3
"""The same requests, spaced or batched: CPU per request of a bare client.

Usage: bench/cold-warm.py spaced|batched SECONDS PORT
  spaced:  one request every 200 us, each at its own time (5k req/s)
  batched: five requests every 1 ms over five connections (5k req/s)
to an HTTP/1.1 server on 127.0.0.1:PORT (nginx's static file in
docs/performance.md, "Round 4, third pass"). Blocking sockets, one process:
what a request costs this machine when the core idles between requests,
against when requests come in bursts, with no load generator in between.
"""
import socket, sys, time, resource
if len(sys.argv) != 4 or sys.argv[1] not in ("spaced", "batched"):
    print("usage: bench/cold-warm.py spaced|batched SECONDS PORT", file=sys.stderr)
    sys.exit(2)
mode, seconds, port = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
for s in socks:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def answer(s):
    buf = b""
    while b"\r\n\r\n" not in buf or len(buf) < buf.index(b"\r\n\r\n") + 4 + clen(buf):
        buf += s.recv(65536)
def clen(buf):
    head = buf[:buf.index(b"\r\n\r\n")].lower()
    i = head.index(b"content-length:")
    return int(head[i + 15:].split(b"\r\n")[0])
n = 0
t0 = time.monotonic(); r0 = resource.getrusage(resource.RUSAGE_SELF)
period, per = (200e-6, 1) if mode == "spaced" else (1e-3, 5)
next_t = t0
while time.monotonic() - t0 < seconds:
    next_t += period
    for s in socks[:per]:
        s.sendall(req)
    for s in socks[:per]:
        answer(s)
    n += per
    d = next_t - time.monotonic()
    if d > 0:
        time.sleep(d)
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(f"{mode}: {n / (time.monotonic() - t0):.0f} req/s, {cpu * 1e6 / n:.1f} CPU-us/req, vol ctx {r1.ru_nvcsw - r0.ru_nvcsw}")
