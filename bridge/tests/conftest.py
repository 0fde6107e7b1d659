"""Test helpers: a fake C# side for one slot (socketpair) and default request environs."""

import io
import os
import socket
import sys
import threading

BRIDGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if BRIDGE_DIR not in sys.path:
    sys.path.insert(0, BRIDGE_DIR)

from tapster_bridge import protocol as p  # noqa: E402
from tapster_bridge.wsgi import Handler, PeerGone  # noqa: E402

TIMEOUT = 5


def request_pairs(method="GET", path="/", query="", headers=(), content_type=None, content_length=None,
                  script_name="", request_id="req-1"):
    """Environ pairs the way the C# side sends them."""
    pairs = [("REQUEST_METHOD", method), ("SCRIPT_NAME", script_name), ("PATH_INFO", path),
             ("QUERY_STRING", query), ("SERVER_NAME", "localhost"), ("SERVER_PORT", "8080"),
             ("SERVER_PROTOCOL", "HTTP/1.1"), ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "40000"),
             ("wsgi.url_scheme", "http"), ("HTTP_HOST", "localhost:8080"), ("HTTP_X_REQUEST_ID", request_id)]
    if content_type is not None:
        pairs.append(("CONTENT_TYPE", content_type))
    if content_length is not None:
        pairs.append(("CONTENT_LENGTH", str(content_length)))
    pairs.extend(headers)
    return pairs


class RecordingSocket:
    """The worker's end of the slot; records every sendall so tests can check the batching."""

    def __init__(self, sock):
        self.sock = sock
        self.sends = []

    def sendall(self, data):
        self.sends.append(bytes(data))
        self.sock.sendall(data)

    def recv_into(self, buf):
        return self.sock.recv_into(buf)

    def fileno(self):
        return self.sock.fileno()


class Reply:
    def __init__(self):
        self.frames = []  # (type name, decoded value)
        self.status = None
        self.headers = None
        self.body = b""
        self.outcome = None
        self.file = None
        self.logs = []  # LOG records: what the app wrote to wsgi.errors or sys.stderr during the request
        self.log_flags = []  # per record: p.LOG_WSGI_ERRORS, p.LOG_STDERR or p.LOG_STDOUT

    @property
    def log(self):
        return "\n".join(self.logs)

    @property
    def types(self):
        return [t for t, _ in self.frames]

    def header(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]


class Peer:
    """Plays the C# side of one slot against a Handler running in a thread."""

    def __init__(self, app, multithread=False):
        self.cs_sock, py_sock = socket.socketpair()
        self.cs_sock.settimeout(TIMEOUT)
        py_sock.settimeout(TIMEOUT)
        self.py_sock = py_sock
        self.wire = RecordingSocket(py_sock)
        self.errors = io.StringIO()
        self.slot_reader = p.FrameReader(self.wire)
        self.handler = Handler(app, self.wire, self.slot_reader, self.wire, multithread, self.errors)
        self.reader = p.FrameReader(self.cs_sock)
        self.thread = None
        self.error = None

    def send_request(self, pairs, body_kind=p.BODY_NONE, body=b""):
        """Send a REQUEST and let the worker side handle it in a thread."""
        self.wire.sends.clear()
        self.cs_sock.sendall(p.encode_request(body_kind, pairs, body))
        self.thread = threading.Thread(target=self._serve_one, daemon=True)
        self.thread.start()

    def _serve_one(self):
        try:
            frame = self.slot_reader.read()
            assert frame[0] == p.REQUEST
            self.handler.handle(frame[2])
        except BaseException as e:  # PeerGone included: tests look at it
            self.error = e

    def read_frame(self):
        ftype, flags, payload = self.reader.read()
        name = p.TYPE_NAMES[ftype]
        if ftype == p.START:
            return name, p.decode_start(payload)
        if ftype == p.BODY:
            return name, bytes(payload)
        if ftype == p.FILE:
            return name, p.decode_file(payload)
        if ftype == p.END:
            return name, p.decode_end(payload)
        if ftype == p.LOG:
            return name, (p.decode_log(payload), flags)
        raise AssertionError(f"unexpected {name}")

    def read_reply(self, reply=None, on_file=None):
        reply = reply or Reply()
        while True:
            name, value = self.read_frame()
            reply.frames.append((name, value))
            if name == "START":
                reply.status, reply.headers = value
            elif name == "BODY":
                reply.body += value
            elif name == "FILE":
                reply.file = value
                on_file(value)
            elif name == "LOG":
                reply.logs.append(value[0])
                reply.log_flags.append(value[1])
            elif name == "END":
                reply.outcome = value
                self.finish()
                return reply

    def finish(self):
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()
        if self.error is not None and not isinstance(self.error, PeerGone):
            raise self.error

    def call(self, method="GET", path="/", body=None, spool_path=None, **kw):
        if spool_path is not None:
            self.send_request(request_pairs(method, path, content_length=os.path.getsize(spool_path), **kw),
                              p.BODY_SPOOLED, spool_path.encode())
        elif body is not None:
            self.send_request(request_pairs(method, path, content_length=len(body), **kw), p.BODY_INLINE, body)
        else:
            self.send_request(request_pairs(method, path, **kw))
        return self.read_reply()

    def close(self):
        self.cs_sock.close()
        self.py_sock.close()


import pytest  # noqa: E402


@pytest.fixture
def make_peer():
    peers = []

    def make(app, **kw):
        peer = Peer(app, **kw)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.close()
