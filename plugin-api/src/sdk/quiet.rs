//! Quiet sockets: answers read at the runtime's next wake-up, not one
//! wake-up each.
//!
//! At a few thousand ops/s an op costs two wake-ups of the plugin's worker:
//! its send (the [`ahead`](super::ahead) timer) and its answer (epoll). On a
//! VM a wake-up is ≈15 µs of CPU, more than the op itself. A quiet socket
//! does not wake the worker when an answer arrives: `SO_RCVLOWAT` is set
//! above any answer's size, so epoll does not report it readable. The op
//! parks on [`next_wake_up`] instead and reads its answer when the worker
//! next wakes for a send. The answer's time is the kernel's receive
//! timestamp (`SO_TIMESTAMPNS`) of the last segment read, so reading it
//! later changes no latency; the op tells the SDK with [`arrived_at`].
//!
//! Parking is bounded ([`PARK_LIMIT`]): with no send due soon (low rates,
//! a step's end) the op makes its socket loud again (`SO_RCVLOWAT` 1, which
//! also signals data already there) and waits for epoll as usual. A plugin
//! under heavy load should not park either: an answer read late holds its
//! connection longer (see the http plugin's pool).

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::abi::MonoNanos;

/// How long an op parks for a wake-up before it asks epoll instead.
pub const PARK_LIMIT: Duration = Duration::from_millis(2);

/// `SO_RCVLOWAT` of a quiet socket: larger than the answers of a load test,
/// so none is reported readable before it is read (the kernel caps it at
/// half the receive buffer; a larger answer just wakes the worker).
const QUIET_LOWAT: libc::c_int = 1 << 20;

/// Ops waiting for the worker's next wake-up.
static PARKED: Mutex<Vec<Waker>> = Mutex::new(Vec::new());

/// When the ahead dispatcher last woke to fire ops (0: never).
static LAST_WAKE_UP: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The arrival the op being polled reported (see [`stamped`]).
    static ARRIVAL: Cell<Option<MonoNanos>> = const { Cell::new(None) };
    /// An op of [`Requests`](super::Requests) is being polled: its arrival
    /// will be used.
    static IN_OP: Cell<bool> = const { Cell::new(false) };
}

/// Whether an answer read at the next wake-up costs nothing: the code
/// asking runs in an op the SDK dates by its arrival, and the worker woke
/// for sends within [`PARK_LIMIT`] (so it will again soon). Not in a
/// plugin's `start` (setup requests), nor at rates too low to meet a send.
pub fn parking_pays() -> bool {
    IN_OP.with(Cell::get) && woke_lately(LAST_WAKE_UP.load(Ordering::Relaxed), crate::clock::now())
}

fn woke_lately(last_wake_up: u64, now: MonoNanos) -> bool {
    last_wake_up != 0 && now.since(MonoNanos(last_wake_up)) < PARK_LIMIT.as_nanos() as u64
}

/// Resolves when the plugin's worker next wakes up to fire ops (or on any
/// other poll after the first: callers re-check their socket and park again).
pub fn next_wake_up() -> NextWakeUp {
    NextWakeUp { parked: false }
}

pub struct NextWakeUp {
    parked: bool,
}

impl Future for NextWakeUp {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.parked {
            return Poll::Ready(());
        }
        self.parked = true;
        lock_parked().push(cx.waker().clone());
        Poll::Pending
    }
}

fn lock_parked() -> std::sync::MutexGuard<'static, Vec<Waker>> {
    PARKED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wakes every parked op (the ahead dispatcher, each time it woke at
/// `now`). `spare` is the dispatcher's own empty list, swapped with the
/// parked one so neither is reallocated per wake-up.
pub(crate) fn wake_parked(now: MonoNanos, spare: &mut Vec<Waker>) {
    LAST_WAKE_UP.store(now.0, Ordering::Relaxed);
    std::mem::swap(&mut *lock_parked(), spare);
    for waker in spare.drain(..) {
        waker.wake();
    }
}

/// The answer the op now completing arrived at `at` (a kernel receive
/// timestamp), not when its future finished: call it in the poll that
/// returns the answer. The SDK's [`Requests`](super::Requests) dates the
/// op's sample by it.
pub fn arrived_at(at: MonoNanos) {
    ARRIVAL.with(|a| a.set(Some(at)));
}

/// A service's call, with the arrival it reported in its final poll.
pub(crate) async fn stamped<F: Future>(call: F) -> (F::Output, Option<MonoNanos>) {
    let mut call = std::pin::pin!(call);
    std::future::poll_fn(|cx| {
        // Only the final poll's report counts: clear what another op's
        // poll on this thread may have left.
        ARRIVAL.with(|a| a.set(None));
        IN_OP.with(|op| op.set(true));
        let polled = call.as_mut().poll(cx);
        IN_OP.with(|op| op.set(false));
        polled.map(|out| (out, ARRIVAL.with(|a| a.take())))
    })
    .await
}

/// Turns on receive timestamps (`SO_TIMESTAMPNS`) for [`recv_stamped`].
pub fn stamp_arrivals(socket: BorrowedFd<'_>) -> io::Result<()> {
    set_option(socket, libc::SO_TIMESTAMPNS, 1)
}

/// Quiet (`true`): epoll does not report an answer; loud (`false`): it
/// does, including one already there.
pub fn set_quiet(socket: BorrowedFd<'_>, quiet: bool) -> io::Result<()> {
    set_option(
        socket,
        libc::SO_RCVLOWAT,
        if quiet { QUIET_LOWAT } else { 1 },
    )
}

fn set_option(socket: BorrowedFd<'_>, option: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: a valid fd, and an int option passed by pointer with its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads what is there without waiting (`WouldBlock` if nothing is), with
/// the receive time of the last segment read when the socket stamps them.
pub fn recv_stamped(
    socket: BorrowedFd<'_>,
    buf: &mut [u8],
) -> io::Result<(usize, Option<MonoNanos>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one SCM_TIMESTAMPNS (a timespec), aligned for cmsghdr.
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain data; zeroed is its empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: `msg` points at `buf` and `control`, both live and writable
    // for the lengths given.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: walking the control messages the kernel just wrote into `msg`.
    let stamp = unsafe {
        let mut at = None;
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
                at = Some(crate::clock::from_realtime(ts));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        at
    };
    Ok((n as usize, stamp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;

    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    /// poll(2) as epoll sees it: readable now?
    fn readable(socket: &TcpStream) -> bool {
        let mut fd = libc::pollfd {
            fd: socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait.
        let n = unsafe { libc::poll(&mut fd, 1, 0) };
        n == 1 && fd.revents & libc::POLLIN != 0
    }

    /// The kernel turns receive timestamps on a moment after the first
    /// socket asks (a deferred static key): wait until a stamped read
    /// comes back on a pair of its own.
    fn wait_for_stamping() {
        let (client, mut server) = pair();
        stamp_arrivals(client.as_fd()).unwrap();
        let mut buf = [0u8; 8];
        for _ in 0..200 {
            server.write_all(b"x").unwrap();
            std::thread::sleep(Duration::from_millis(5));
            if let Ok((_, Some(_))) = recv_stamped(client.as_fd(), &mut buf) {
                return;
            }
        }
        panic!("no receive timestamp within 1 s");
    }

    #[test]
    fn a_quiet_socket_hides_an_answer_from_polling_but_reads_it_with_its_arrival_time() {
        wait_for_stamping();
        let (client, mut server) = pair();
        stamp_arrivals(client.as_fd()).unwrap();
        set_quiet(client.as_fd(), true).unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(
            recv_stamped(client.as_fd(), &mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        let before = crate::clock::now();
        server.write_all(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        let written = crate::clock::now();
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            !readable(&client),
            "a quiet socket is not reported readable"
        );
        let (n, at) = recv_stamped(client.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"HTTP/1.1 200 OK\r\n\r\n");
        let at = at.expect("a receive timestamp");
        // Stamped on arrival, not 20 ms later when read (a wide margin for
        // a busy machine and the clock conversion).
        assert!(
            at.0 + 1_000_000 >= before.0 && at.0 <= written.0 + 5_000_000,
            "arrived {at:?}, written between {before:?} and {written:?}"
        );
    }

    #[test]
    fn a_socket_made_loud_again_reports_the_answer_already_there() {
        let (client, mut server) = pair();
        set_quiet(client.as_fd(), true).unwrap();
        server.write_all(b"x").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(!readable(&client));
        set_quiet(client.as_fd(), false).unwrap();
        assert!(readable(&client), "loud: the byte waiting is reported");
        let mut buf = [0u8; 4];
        let (n, at) = recv_stamped(client.as_fd(), &mut buf).unwrap();
        assert_eq!((n, at), (1, None), "no timestamps unless asked for");
    }

    #[test]
    fn only_the_final_poll_reports_an_arrival() {
        use std::task::Waker;
        let mut cx = Context::from_waker(Waker::noop());
        // First poll reports 5 then pends; the second completes without a report.
        let mut polls = 0;
        let mut call = Box::pin(stamped(std::future::poll_fn(|_| {
            polls += 1;
            if polls == 1 {
                arrived_at(MonoNanos(5));
                Poll::Pending
            } else {
                Poll::Ready("answer")
            }
        })));
        assert!(call.as_mut().poll(&mut cx).is_pending());
        assert_eq!(call.as_mut().poll(&mut cx), Poll::Ready(("answer", None)));
        let mut reported = Box::pin(stamped(async {
            arrived_at(MonoNanos(7));
            "answer"
        }));
        assert_eq!(
            reported.as_mut().poll(&mut cx),
            Poll::Ready(("answer", Some(MonoNanos(7))))
        );
    }

    #[test]
    fn parked_ops_are_woken_when_the_worker_wakes() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let count = std::sync::Arc::new(Count(Default::default()));
        let waker = Waker::from(std::sync::Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        let mut wait = Box::pin(next_wake_up());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        wake_parked(crate::clock::now(), &mut Vec::new());
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(wait.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn parking_pays_only_inside_an_op_while_the_worker_wakes_for_sends() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut asked = Box::pin(stamped(async { parking_pays() }));
        wake_parked(crate::clock::now(), &mut Vec::new());
        assert!(!parking_pays(), "outside an op (a setup request)");
        match asked.as_mut().poll(&mut cx) {
            Poll::Ready((pays, _)) => assert!(pays, "in an op, just after a wake-up"),
            Poll::Pending => unreachable!(),
        }
        assert!(!IN_OP.with(Cell::get), "the flag ends with the poll");
        let ms = 1_000_000;
        for (last, now, lately) in [
            (0, 1, false),
            (10 * ms, 10 * ms, true),
            (10 * ms, 11 * ms, true),
            (10 * ms, 12 * ms, false),
            (10 * ms, 50 * ms, false),
        ] {
            assert_eq!(woke_lately(last, MonoNanos(now)), lately, "{last} {now}");
        }
    }
}
