//! Raw bindings to libzmq 4.3.5, built with CURVE, for the `zmq` 0.10 crate.
//!
//! logfunnel patches this crate in for the registry's `zmq-sys` 0.12 (root `Cargo.toml`,
//! `[patch.crates-io]`): that one always builds libzmq 4.3.4 without libsodium, so CURVE is off. This
//! crate builds libzmq 4.3.5 from `zeromq-src` with libsodium from `libsodium-sys-stable`, both from the
//! sources those crates ship (no download, no system library), and links them statically.
//!
//! The declarations below are written by hand from libzmq's public C API (`zmq.h`, stable API only),
//! and hold what the `zmq` crate and logfunnel call: socket and context functions, messages, polling,
//! the Z85/CURVE helpers, the option, event and error numbers. Why this route and not another is in
//! `sys/README.md`.

#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_long, c_short, c_void, size_t};

/// A socket's file descriptor as `zmq_getsockopt(ZMQ_FD)` and `zmq_pollitem_t` hold it (`zmq_fd_t`).
pub type RawFd = c_int;

/// `zmq_msg_t`: 64 opaque bytes that libzmq owns, aligned like a pointer.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct zmq_msg_t {
    _opaque: [u8; 64],
}

impl Default for zmq_msg_t {
    /// All zero, the state `zmq_msg_init*` expects to overwrite.
    fn default() -> Self {
        zmq_msg_t { _opaque: [0; 64] }
    }
}

/// One entry of `zmq_poll`'s array: a ZeroMQ socket, or (when `socket` is null) a plain descriptor.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct zmq_pollitem_t {
    pub socket: *mut c_void,
    pub fd: RawFd,
    pub events: c_short,
    pub revents: c_short,
}

/// Frees the buffer handed to `zmq_msg_init_data` once libzmq is done with it.
pub type zmq_free_fn = Option<unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void)>;

extern "C" {
    pub fn zmq_errno() -> c_int;
    pub fn zmq_strerror(errnum: c_int) -> *const c_char;
    pub fn zmq_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int);
    pub fn zmq_has(capability: *const c_char) -> c_int;

    pub fn zmq_ctx_new() -> *mut c_void;
    pub fn zmq_ctx_term(context: *mut c_void) -> c_int;
    pub fn zmq_ctx_shutdown(context: *mut c_void) -> c_int;
    pub fn zmq_ctx_set(context: *mut c_void, option: c_int, optval: c_int) -> c_int;
    pub fn zmq_ctx_get(context: *mut c_void, option: c_int) -> c_int;

    pub fn zmq_msg_init(msg: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_init_size(msg: *mut zmq_msg_t, size: size_t) -> c_int;
    pub fn zmq_msg_init_data(
        msg: *mut zmq_msg_t,
        data: *mut c_void,
        size: size_t,
        ffn: zmq_free_fn,
        hint: *mut c_void,
    ) -> c_int;
    pub fn zmq_msg_send(msg: *mut zmq_msg_t, socket: *mut c_void, flags: c_int) -> c_int;
    pub fn zmq_msg_recv(msg: *mut zmq_msg_t, socket: *mut c_void, flags: c_int) -> c_int;
    pub fn zmq_msg_close(msg: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_move(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_copy(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_data(msg: *mut zmq_msg_t) -> *mut c_void;
    pub fn zmq_msg_size(msg: *const zmq_msg_t) -> size_t;
    pub fn zmq_msg_more(msg: *const zmq_msg_t) -> c_int;
    pub fn zmq_msg_get(msg: *const zmq_msg_t, property: c_int) -> c_int;
    pub fn zmq_msg_set(msg: *mut zmq_msg_t, property: c_int, optval: c_int) -> c_int;
    pub fn zmq_msg_gets(msg: *const zmq_msg_t, property: *const c_char) -> *const c_char;

    pub fn zmq_socket(context: *mut c_void, kind: c_int) -> *mut c_void;
    pub fn zmq_close(socket: *mut c_void) -> c_int;
    pub fn zmq_setsockopt(
        socket: *mut c_void,
        option: c_int,
        optval: *const c_void,
        optvallen: size_t,
    ) -> c_int;
    pub fn zmq_getsockopt(
        socket: *mut c_void,
        option: c_int,
        optval: *mut c_void,
        optvallen: *mut size_t,
    ) -> c_int;
    pub fn zmq_bind(socket: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_connect(socket: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_unbind(socket: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_disconnect(socket: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_send(socket: *mut c_void, buf: *const c_void, len: size_t, flags: c_int) -> c_int;
    pub fn zmq_recv(socket: *mut c_void, buf: *mut c_void, len: size_t, flags: c_int) -> c_int;
    pub fn zmq_socket_monitor(socket: *mut c_void, addr: *const c_char, events: c_int) -> c_int;

    pub fn zmq_poll(items: *mut zmq_pollitem_t, nitems: c_int, timeout: c_long) -> c_int;
    pub fn zmq_proxy(frontend: *mut c_void, backend: *mut c_void, capture: *mut c_void) -> c_int;
    pub fn zmq_proxy_steerable(
        frontend: *mut c_void,
        backend: *mut c_void,
        capture: *mut c_void,
        control: *mut c_void,
    ) -> c_int;

    pub fn zmq_z85_encode(dest: *mut c_char, data: *const u8, size: size_t) -> *mut c_char;
    pub fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8;
    pub fn zmq_curve_keypair(z85_public_key: *mut c_char, z85_secret_key: *mut c_char) -> c_int;
    pub fn zmq_curve_public(z85_public_key: *mut c_char, z85_secret_key: *const c_char) -> c_int;
}

/// Declares `u32` constants, the type the `zmq` crate matches them against.
macro_rules! constants {
    ($($name:ident = $value:expr;)*) => { $(pub const $name: u32 = $value;)* };
}

// Context options.
constants! {
    ZMQ_IO_THREADS = 1;
    ZMQ_MAX_SOCKETS = 2;
    ZMQ_SOCKET_LIMIT = 3;
    ZMQ_THREAD_PRIORITY = 3;
    ZMQ_THREAD_SCHED_POLICY = 4;
    ZMQ_MAX_MSGSZ = 5;
    ZMQ_MSG_T_SIZE = 6;
    ZMQ_BLOCKY = 70;
}

// Socket types.
constants! {
    ZMQ_PAIR = 0;
    ZMQ_PUB = 1;
    ZMQ_SUB = 2;
    ZMQ_REQ = 3;
    ZMQ_REP = 4;
    ZMQ_DEALER = 5;
    ZMQ_ROUTER = 6;
    ZMQ_PULL = 7;
    ZMQ_PUSH = 8;
    ZMQ_XPUB = 9;
    ZMQ_XSUB = 10;
    ZMQ_STREAM = 11;
}

// Socket options.
constants! {
    ZMQ_AFFINITY = 4;
    ZMQ_ROUTING_ID = 5;
    ZMQ_SUBSCRIBE = 6;
    ZMQ_UNSUBSCRIBE = 7;
    ZMQ_RATE = 8;
    ZMQ_RECOVERY_IVL = 9;
    ZMQ_SNDBUF = 11;
    ZMQ_RCVBUF = 12;
    ZMQ_RCVMORE = 13;
    ZMQ_FD = 14;
    ZMQ_EVENTS = 15;
    ZMQ_TYPE = 16;
    ZMQ_LINGER = 17;
    ZMQ_RECONNECT_IVL = 18;
    ZMQ_BACKLOG = 19;
    ZMQ_RECONNECT_IVL_MAX = 21;
    ZMQ_MAXMSGSIZE = 22;
    ZMQ_SNDHWM = 23;
    ZMQ_RCVHWM = 24;
    ZMQ_MULTICAST_HOPS = 25;
    ZMQ_RCVTIMEO = 27;
    ZMQ_SNDTIMEO = 28;
    ZMQ_LAST_ENDPOINT = 32;
    ZMQ_ROUTER_MANDATORY = 33;
    ZMQ_TCP_KEEPALIVE = 34;
    ZMQ_TCP_KEEPALIVE_CNT = 35;
    ZMQ_TCP_KEEPALIVE_IDLE = 36;
    ZMQ_TCP_KEEPALIVE_INTVL = 37;
    ZMQ_IMMEDIATE = 39;
    ZMQ_XPUB_VERBOSE = 40;
    ZMQ_ROUTER_RAW = 41;
    ZMQ_IPV6 = 42;
    ZMQ_MECHANISM = 43;
    ZMQ_PLAIN_SERVER = 44;
    ZMQ_PLAIN_USERNAME = 45;
    ZMQ_PLAIN_PASSWORD = 46;
    ZMQ_CURVE_SERVER = 47;
    ZMQ_CURVE_PUBLICKEY = 48;
    ZMQ_CURVE_SECRETKEY = 49;
    ZMQ_CURVE_SERVERKEY = 50;
    ZMQ_PROBE_ROUTER = 51;
    ZMQ_REQ_CORRELATE = 52;
    ZMQ_REQ_RELAXED = 53;
    ZMQ_CONFLATE = 54;
    ZMQ_ZAP_DOMAIN = 55;
    ZMQ_ROUTER_HANDOVER = 56;
    ZMQ_TOS = 57;
    ZMQ_CONNECT_ROUTING_ID = 61;
    ZMQ_GSSAPI_SERVER = 62;
    ZMQ_GSSAPI_PRINCIPAL = 63;
    ZMQ_GSSAPI_SERVICE_PRINCIPAL = 64;
    ZMQ_GSSAPI_PLAINTEXT = 65;
    ZMQ_HANDSHAKE_IVL = 66;
    ZMQ_SOCKS_PROXY = 68;
    ZMQ_XPUB_NODROP = 69;
    ZMQ_XPUB_MANUAL = 71;
    ZMQ_XPUB_WELCOME_MSG = 72;
    ZMQ_STREAM_NOTIFY = 73;
    ZMQ_INVERT_MATCHING = 74;
    ZMQ_HEARTBEAT_IVL = 75;
    ZMQ_HEARTBEAT_TTL = 76;
    ZMQ_HEARTBEAT_TIMEOUT = 77;
    ZMQ_XPUB_VERBOSER = 78;
    ZMQ_CONNECT_TIMEOUT = 79;
    ZMQ_TCP_MAXRT = 80;
    ZMQ_THREAD_SAFE = 81;
    ZMQ_MULTICAST_MAXTPDU = 84;
    ZMQ_USE_FD = 89;
    ZMQ_BINDTODEVICE = 92;
}

// Message properties, send/recv flags, security mechanisms.
constants! {
    ZMQ_MORE = 1;
    ZMQ_SHARED = 3;
    ZMQ_DONTWAIT = 1;
    ZMQ_SNDMORE = 2;
    ZMQ_NULL = 0;
    ZMQ_PLAIN = 1;
    ZMQ_CURVE = 2;
    ZMQ_GSSAPI = 3;
}

// Socket monitor events.
constants! {
    ZMQ_EVENT_CONNECTED = 0x0001;
    ZMQ_EVENT_CONNECT_DELAYED = 0x0002;
    ZMQ_EVENT_CONNECT_RETRIED = 0x0004;
    ZMQ_EVENT_LISTENING = 0x0008;
    ZMQ_EVENT_BIND_FAILED = 0x0010;
    ZMQ_EVENT_ACCEPTED = 0x0020;
    ZMQ_EVENT_ACCEPT_FAILED = 0x0040;
    ZMQ_EVENT_CLOSED = 0x0080;
    ZMQ_EVENT_CLOSE_FAILED = 0x0100;
    ZMQ_EVENT_DISCONNECTED = 0x0200;
    ZMQ_EVENT_MONITOR_STOPPED = 0x0400;
    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL = 0x0800;
    ZMQ_EVENT_HANDSHAKE_SUCCEEDED = 0x1000;
    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL = 0x2000;
    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH = 0x4000;
    ZMQ_EVENT_ALL = 0xFFFF;
}

// Poll events.
constants! {
    ZMQ_POLLIN = 1;
    ZMQ_POLLOUT = 2;
    ZMQ_POLLERR = 4;
    ZMQ_POLLPRI = 8;
}

/// Error numbers as `zmq_errno()` reports them: the platform's own where it has one, and libzmq's
/// (`ZMQ_HAUSNUMERO` + n) for the rest. The `_ALT` names are libzmq's numbers for codes a platform
/// lacks; on Linux they never occur but the `zmq` crate matches them too.
pub mod errno {
    use libc::c_int;

    const ZMQ_HAUSNUMERO: c_int = 156_384_712;

    pub const EACCES: c_int = libc::EACCES;
    pub const EADDRINUSE: c_int = libc::EADDRINUSE;
    pub const EAGAIN: c_int = libc::EAGAIN;
    pub const EBUSY: c_int = libc::EBUSY;
    pub const ECONNREFUSED: c_int = libc::ECONNREFUSED;
    pub const EFAULT: c_int = libc::EFAULT;
    pub const EINTR: c_int = libc::EINTR;
    pub const EHOSTUNREACH: c_int = libc::EHOSTUNREACH;
    pub const EINPROGRESS: c_int = libc::EINPROGRESS;
    pub const EINVAL: c_int = libc::EINVAL;
    pub const EMFILE: c_int = libc::EMFILE;
    pub const EMSGSIZE: c_int = libc::EMSGSIZE;
    pub const ENAMETOOLONG: c_int = libc::ENAMETOOLONG;
    pub const ENODEV: c_int = libc::ENODEV;
    pub const ENOENT: c_int = libc::ENOENT;
    pub const ENOMEM: c_int = libc::ENOMEM;
    pub const ENOTCONN: c_int = libc::ENOTCONN;
    pub const ENOTSOCK: c_int = libc::ENOTSOCK;
    pub const EPROTO: c_int = libc::EPROTO;
    pub const EPROTONOSUPPORT: c_int = libc::EPROTONOSUPPORT;
    pub const ENOTSUP: c_int = libc::ENOTSUP;
    pub const ENOBUFS: c_int = libc::ENOBUFS;
    pub const ENETDOWN: c_int = libc::ENETDOWN;
    pub const EADDRNOTAVAIL: c_int = libc::EADDRNOTAVAIL;

    pub const ENOTSUP_ALT: c_int = ZMQ_HAUSNUMERO + 1;
    pub const EPROTONOSUPPORT_ALT: c_int = ZMQ_HAUSNUMERO + 2;
    pub const ENOBUFS_ALT: c_int = ZMQ_HAUSNUMERO + 3;
    pub const ENETDOWN_ALT: c_int = ZMQ_HAUSNUMERO + 4;
    pub const EADDRINUSE_ALT: c_int = ZMQ_HAUSNUMERO + 5;
    pub const EADDRNOTAVAIL_ALT: c_int = ZMQ_HAUSNUMERO + 6;
    pub const ECONNREFUSED_ALT: c_int = ZMQ_HAUSNUMERO + 7;
    pub const EINPROGRESS_ALT: c_int = ZMQ_HAUSNUMERO + 8;
    pub const ENOTSOCK_ALT: c_int = ZMQ_HAUSNUMERO + 9;
    pub const EMSGSIZE_ALT: c_int = ZMQ_HAUSNUMERO + 10;
    pub const EAFNOSUPPORT_ALT: c_int = ZMQ_HAUSNUMERO + 11;
    pub const ENETUNREACH_ALT: c_int = ZMQ_HAUSNUMERO + 12;
    pub const ECONNABORTED_ALT: c_int = ZMQ_HAUSNUMERO + 13;
    pub const ECONNRESET_ALT: c_int = ZMQ_HAUSNUMERO + 14;
    pub const ENOTCONN_ALT: c_int = ZMQ_HAUSNUMERO + 15;
    pub const ETIMEDOUT_ALT: c_int = ZMQ_HAUSNUMERO + 16;
    pub const EHOSTUNREACH_ALT: c_int = ZMQ_HAUSNUMERO + 17;
    pub const ENETRESET_ALT: c_int = ZMQ_HAUSNUMERO + 18;

    pub const EFSM: c_int = ZMQ_HAUSNUMERO + 51;
    pub const ENOCOMPATPROTO: c_int = ZMQ_HAUSNUMERO + 52;
    pub const ETERM: c_int = ZMQ_HAUSNUMERO + 53;
    pub const EMTHREAD: c_int = ZMQ_HAUSNUMERO + 54;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn links_libzmq_4_3_5_with_curve() {
        let (mut major, mut minor, mut patch) = (0, 0, 0);
        unsafe { zmq_version(&mut major, &mut minor, &mut patch) };
        assert_eq!((major, minor, patch), (4, 3, 5));
        assert_eq!(unsafe { zmq_has(c"curve".as_ptr()) }, 1);
    }

    #[test]
    fn message_layout_matches_libzmq() {
        assert_eq!(std::mem::size_of::<zmq_msg_t>(), 64);
        let context = unsafe { zmq_ctx_new() };
        assert_eq!(unsafe { zmq_ctx_get(context, ZMQ_MSG_T_SIZE as c_int) }, 64);
        assert_eq!(unsafe { zmq_ctx_term(context) }, 0);
    }

    #[test]
    fn generates_a_curve_keypair_and_round_trips_z85() {
        let mut public = [0 as c_char; 41];
        let mut secret = [0 as c_char; 41];
        let rc = unsafe { zmq_curve_keypair(public.as_mut_ptr(), secret.as_mut_ptr()) };
        assert_eq!(rc, 0);
        let mut derived = [0 as c_char; 41];
        assert_eq!(
            unsafe { zmq_curve_public(derived.as_mut_ptr(), secret.as_ptr()) },
            0
        );
        assert_eq!(public, derived);
        let mut raw = [0u8; 32];
        assert!(!unsafe { zmq_z85_decode(raw.as_mut_ptr(), public.as_ptr()) }.is_null());
        let mut encoded = [0 as c_char; 41];
        unsafe { zmq_z85_encode(encoded.as_mut_ptr(), raw.as_ptr(), raw.len()) };
        let encoded = unsafe { CStr::from_ptr(encoded.as_ptr()) };
        let public = unsafe { CStr::from_ptr(public.as_ptr()) };
        assert_eq!(encoded, public);
    }
}
