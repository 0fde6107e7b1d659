"""A worker process: one control connection, and per WSGI thread a slot: two connections and a thread."""

import faulthandler
import os
import signal
import socket
import sys
import threading
import traceback

from .loader import LoadError
from .protocol import (
    CANCEL, LOG_STDERR, LOG_STDOUT, REQUEST, ROLE_CONTROL, ROLE_SLOT, ROLE_SLOT_RESPONSES, ROLE_STDERR, ROLE_STDOUT, TYPE_NAMES, WELCOME, FrameReader,
    ProtocolError, VERSION, decode_welcome, encode_boot_error, encode_hello,
)
from .wsgi import Handler, PeerGone, StreamRouter, forget_requests

EXIT_PROTOCOL = 2
EXIT_BOOT_ERROR = 3


def connect(path, role, worker_id, slot, token):
    """Connect, send HELLO and wait for WELCOME; -> (socket, its FrameReader)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Blocking whatever the app did: socket.setdefaulttimeout() at import time would otherwise make
    # every idle slot time out and the worker quit.
    sock.settimeout(None)
    sock.connect(path)
    sock.sendall(encode_hello(role, worker_id, os.getpid(), slot, token))
    reader = FrameReader(sock)
    frame = reader.read()
    if frame is None:
        raise ConnectionError("the server closed the connection instead of answering HELLO (wrong token?)")
    if frame[0] != WELCOME:
        raise ProtocolError("bad_payload", f"expected WELCOME, got {TYPE_NAMES[frame[0]]}")
    version = decode_welcome(frame[2])
    if version != VERSION:
        raise ProtocolError("bad_payload", f"server speaks protocol version {version}, we speak {VERSION}")
    return sock, reader


def ignore_stop_signals():
    """SIGTERM, SIGINT and SIGHUP reach the whole process group (Ctrl-C, a closed terminal, systemd's
    KillMode=control-group): stopping is Tapster's call, which drains the queue first and then closes
    our connections, and on SIGHUP Tapster replaces the workers itself. Applied again after the app
    is imported, in case it installed handlers of its own."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def flush_standard_streams():
    """Flush sys.stdout and sys.stderr, whatever the app made of them (None, closed, no flush())."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def _redirect_output(path, worker_id, token):
    """Point fd 1 and 2 at connections of their own to the C# side, so it can tag this worker's output.

    Sockets rather than pipes: Tapster reads them with its event loop instead of a thread per pipe,
    which matters once a recycled worker's children (anything the app spawned) keep them open.
    """
    flush_standard_streams()
    for fd, role in ((1, ROLE_STDOUT), (2, ROLE_STDERR)):
        sock, _ = connect(path, role, worker_id, 0, token)
        os.dup2(sock.fileno(), fd)
        sock.close()  # fd 1 or 2 holds the connection now
    # Line buffering so each print reaches the log as it happens, not when a block fills up.
    # The existing stream objects are switched in place when possible: a preloaded app may hold
    # them already (logging handlers), and those must not stay block-buffered.
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = getattr(sys, name)
        try:
            reusable = stream.fileno() == fd and hasattr(stream, "reconfigure")
        except (AttributeError, OSError, ValueError):
            reusable = False
        if reusable:
            stream.reconfigure(line_buffering=True, errors="backslashreplace")
        else:
            setattr(sys, name, open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False))


def route_output():
    """Make sys.stdout and sys.stderr StreamRouters over the streams they are, so that what a request
    writes there (a print, a logging record and its traceback) is logged as that request's records.
    Logging handlers the app set up before (a preloaded app's logging.basicConfig() holds the stream
    object itself) are pointed at the routers too; outside requests they write exactly as before."""
    routers = {}
    for name, flags in (("stdout", LOG_STDOUT), ("stderr", LOG_STDERR)):
        stream = getattr(sys, name)
        routers[id(stream)] = router = StreamRouter(stream, flags)
        setattr(sys, name, router)
    logging = sys.modules.get("logging")
    if logging is None:
        return
    for ref in list(getattr(logging, "_handlerList", ())):
        handler = ref()
        if isinstance(handler, logging.StreamHandler) and id(getattr(handler, "stream", None)) in routers:
            handler.setStream(routers[id(handler.stream)])


def die(code, message):
    """Log and exit; exit even when the log cannot be written (its pipe may be gone)."""
    try:
        sys.stderr.write(message)
        sys.stderr.flush()
    finally:
        os._exit(code)


class _Slot:
    """One slot's two connections and the thread serving them.

    Requests come in on one connection and responses go out on the other, each used in one direction
    only. On a single Unix socket, every read by one side wakes whoever waits on the other side's
    socket ("writable again"): the C# event loop after each request, and this thread, already back
    in recv(), after each response. Two one-way connections leave only the wake-ups that carry data.
    """

    def __init__(self, worker, index):
        self.sock, self.reader = connect(worker.path, ROLE_SLOT, worker.worker_id, index, worker.token)
        self.responses, _ = connect(worker.path, ROLE_SLOT_RESPONSES, worker.worker_id, index, worker.token)
        self.handler = Handler(worker.app, self.sock, self.reader, self.responses, worker.threads > 1, worker.stderr)
        self.busy = False
        self.thread = threading.Thread(target=worker.serve_slot, args=(self,), name=f"tapster-slot-{index}",
                                       daemon=True)


class Worker:
    def __init__(self, path, token, worker_id, threads, app):
        self.path = path
        self.token = token
        self.worker_id = worker_id
        self.threads = threads
        self.app = app
        self.control = None
        self.stopping = False
        self.slots = []
        self.pid = os.getpid()
        self.stderr = sys.stderr  # the real stream under the router, once run() has set both up

    def disown_in_child(self):
        """After an os.fork() by the app, in the child: it must never speak for this worker.

        Its copies of our connections are closed (the parent's stay open), so a child that returns
        into the bridge fails its first send instead of answering, and reading, in the parent's place.
        """
        forget_requests()
        for sock in [self.control] + [s for slot in self.slots for s in (slot.sock, slot.responses)]:
            try:
                sock.close()
            except OSError:
                pass

    def stop_soon(self):
        """Slot-EOF path: EOF on the control read makes the main thread stop us.

        Shutting the socket down instead of raising leaves no window where an exception could
        land in the middle of the graceful stop."""
        try:
            self.control.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def serve_slot(self, slot):
        """Thread body: requests until EOF or a stop; then the whole worker stops."""
        read = slot.reader.read
        handle = slot.handler.handle
        try:
            while not self.stopping:
                frame = read()
                if frame is None:
                    break
                if frame[0] == REQUEST:
                    slot.busy = True
                    handle(frame[2])
                    slot.busy = False
                elif frame[0] != CANCEL:
                    raise ProtocolError("bad_payload", f"expected REQUEST, got {TYPE_NAMES[frame[0]]}")
                # A CANCEL here crossed our END: the request it meant is over, nothing to do.
        except (PeerGone, OSError):
            pass  # the C# side went away: same as EOF
        except ProtocolError as e:
            die(EXIT_PROTOCOL, f"tapster: worker {self.worker_id}: protocol error on a slot: {e}\n")
        except BaseException:
            if os.getpid() != self.pid:
                os._exit(0)
            die(1, f"tapster: worker {self.worker_id}: slot thread crashed\n{traceback.format_exc()}")
        if os.getpid() != self.pid:
            os._exit(0)  # a child the app forked came back into the bridge: its request is not its own
        self.stop_soon()  # a no-op when the worker is already stopping

    def run(self, load_error=None):
        _redirect_output(self.path, self.worker_id, self.token)
        self.stderr = sys.stderr
        route_output()
        self.control, control_reader = connect(self.path, ROLE_CONTROL, self.worker_id, 0, self.token)
        if load_error is not None:
            self.control.sendall(encode_boot_error(*load_error.boot_error_strings()))
            os._exit(EXIT_BOOT_ERROR)
        faulthandler.register(signal.SIGUSR1, file=2, all_threads=True)
        ignore_stop_signals()
        self.slots = slots = [_Slot(self, i) for i in range(self.threads)]
        os.register_at_fork(after_in_child=self.disown_in_child)
        for slot in slots:
            slot.thread.start()
        try:
            # Nothing is sent on the control connection: it only tells us when to stop (EOF).
            frame = control_reader.read()
            if frame is not None:
                raise ProtocolError("bad_payload", f"unexpected {TYPE_NAMES[frame[0]]} on the control connection")
        except OSError:
            pass
        # Graceful stop. A busy slot sees `stopping` after its response; an idle one is blocked
        # reading and gets EOF from SHUT_RD. Shutting a busy slot down would make it miss
        # FILE_OPENED. (stopping is set before busy is read, and a slot clears busy before it
        # reads stopping, so every slot is reached one way or the other.)
        self.stopping = True
        for slot in slots:
            if not slot.busy:
                try:
                    slot.sock.shutdown(socket.SHUT_RD)
                except OSError:
                    pass
        for slot in slots:
            slot.thread.join()
        try:
            flush_standard_streams()
        finally:
            os._exit(0)


def run(path, token, worker_id, threads, app, load=None):
    """Become worker `worker_id`; never returns. In no-preload mode `app` is None and load() imports it."""
    load_error = None
    if app is None:
        try:
            app = load()
        except LoadError as e:
            load_error = e
    try:
        Worker(path, token, worker_id, threads, app).run(load_error)
    except ProtocolError as e:
        die(EXIT_PROTOCOL, f"tapster: worker {worker_id}: protocol error: {e}\n")
    except BaseException:
        die(1, f"tapster: worker {worker_id} failed\n{traceback.format_exc()}")
