"""Probe app for Tapster's functional tests: `probe:app` (Flask, plus raw WSGI routes).

Flask routes:
  GET  /                   "ok"
  GET  /health             {"status": "ok"}
  GET  /environ[/ANY]      JSON: every str environ value; wsgi.* values (bools, version as a list,
                           other objects as their type string); "_types": {key: type name} for all
                           keys; "path_info_hex": PATH_INFO encoded latin-1, in hex
  POST /echo               {"bytes": n, "sha256": hex, "content_length": CONTENT_LENGTH or null},
                           reading wsgi.input directly; /echo?via=flask reads with request.get_data()
  POST /lines              reads wsgi.input with readline() until b"": {"lines": n, "first": latin-1}
  GET  /stream?n=3&delay=0.5   yields "chunk0\n".."chunk{n-1}\n", sleeping delay between chunks
  GET  /sse                text/event-stream, 3 events ("data: event0".."event2") 0.3 s apart
  GET  /slow?s=1.0&mark=X  sleeps s seconds, then "slow done"; with mark, first prints "slow-started-X"
                           (flushed), so a test can wait until the app has the request
  GET  /crash              os._exit(1): the worker dies mid-request
  GET  /break-protocol     writes garbage to every socket of the worker (its connections to
                           Tapster), then sleeps: Tapster must see a protocol violation, not a response
  GET  /raise              raises RuntimeError("secret-detail-4242"); PROPAGATE_EXCEPTIONS is on,
                           so the exception reaches the server, which must not show it to the client
  GET  /raise-after-start  200, yields "first-chunk\n", then raises RuntimeError("after-start-4243")
  GET  /file-sha           {"sha256": ..., "size": 204800} of the content /file serves
  GET  /close-count        number of times a /close-tracker body's close() ran (plain text)
  GET  /print?q=X          prints "stdout-marker-X" to stdout, "stderr-marker-X" to stderr and
                           "wsgi-errors-marker-X" to wsgi.errors (all flushed); returns "printed"
  GET  /log-exception?q=X  logs ValueError("logged-X") with its traceback through Flask's own logger
                           (app.logger.exception, which writes to wsgi.errors), then returns "logged"
  GET  /pid                str(os.getpid())
  GET  /hold?mib=N         keeps N MiB of written (so resident and private) memory for the worker's
                           lifetime; returns its pid
  GET  /spawn-child?q=X    starts a child process that inherits the worker's stdout; once the worker
                           is gone (the child is reparented) it prints "child-marker-X <its pid>",
                           then sleeps 60 s, keeping the output open; returns "<worker pid> <child pid>"
  GET  /threads?s=0        after sleeping s: {"thread": threading.get_ident(), "pid": os.getpid(),
                           "start": and "end": time.monotonic() around the sleep}
  GET  /text?size=4096&type=text/plain&status=200&etag=&cc=&ce=
                           `size` bytes of compressible text (TEXT_LINE repeated) as `type`, with
                           Content-Length; etag, cc, ce set ETag (strong, quoted), Cache-Control and
                           Content-Encoding when given

Raw WSGI routes (exact PATH_INFO match, before Flask sees the request):
  GET  /file?type=T        wsgi.file_wrapper over a 200 KB deterministic file, with Content-Length,
                           as application/octet-stream or T
  GET  /big-file?mb=32      wsgi.file_wrapper over a file of mb MiB of zeros (sparse), with Content-Length
  GET  /fd-file?mode=path  wsgi.file_wrapper over the 200 KB file opened O_PATH (mode=path) or
                           write-only (mode=write): descriptors that give no right to read it
  GET  /double-start       writes START (Content-Length: 35), BODY "hello" and START again itself on its
                           slot's response connection, as a broken worker would (run with 1 thread)
  GET  /short-body         Content-Length: 100 but only 10 bytes of body
  GET  /long-body          Content-Length: 5 but 50 bytes of body
  GET  /hop-by-hop         sets "Connection: close" (a PEP 3333 error the server must reject);
                           ?h=te sets "Transfer-Encoding: chunked" instead; &file=1 answers with
                           wsgi.file_wrapper over the 200 KB file instead of a list
  GET  /write              legacy write(): writes "written-1\n", "written-2\n", returns ["returned\n"]
  GET  /exc-info           yields "first-chunk\n", then calls start_response again with exc_info,
                           which must re-raise; if it does not, yields "not-reraised\n"
  GET  /close-tracker?n=50&delay=0.1   streams "tick{i}\n"; close() appends to a counter file
  GET  /own-headers        sets its own "x-frame-options: DENY" (lower case) and three cookies:
                           "plain=1", "flagged=1; Secure; HttpOnly; SameSite=Strict" and
                           "pref=secure-httponly; Path=/" (attribute words only in the value)

With PROBE_REQUEST_LOG=1, every request the app gets appends "METHOD PATH_INFO BODY-BYTES" as one line
to requests.log in the state directory (O_APPEND: safe across workers), so that tests can prove that
a request never reached the app.

Shared state (the 200 KB file, the close counter and the request log) lives in $PROBE_STATE_DIR if set, else in a
temporary directory made at import (shared by all workers when the app is preloaded). Set
PROBE_STATE_DIR when serving with --no-preload so that every worker sees the same counter.
"""
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import threading
import time

from flask import Flask, Response, jsonify, request

app = Flask(__name__)
app.config["PROPAGATE_EXCEPTIONS"] = True  # let /raise reach the server instead of Flask's 500 page

STATE_DIR = os.environ.get("PROBE_STATE_DIR") or tempfile.mkdtemp(prefix="tapster-probe-")
os.makedirs(STATE_DIR, exist_ok=True)
FILE_PATH = os.path.join(STATE_DIR, "file.bin")
CLOSE_COUNTER = os.path.join(STATE_DIR, "close-count")
REQUEST_LOG = os.path.join(STATE_DIR, "requests.log") if os.environ.get("PROBE_REQUEST_LOG") == "1" else None
FILE_CONTENT = bytes((i * 31 + i // 256) % 251 for i in range(200 * 1024))
FILE_SHA = hashlib.sha256(FILE_CONTENT).hexdigest()

_tmp = f"{FILE_PATH}.{os.getpid()}.tmp"  # write then rename: workers may race
with open(_tmp, "wb") as _f:
    _f.write(FILE_CONTENT)
os.replace(_tmp, FILE_PATH)


@app.get("/")
def index():
    return "ok"


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/environ")
@app.get("/environ/<path:_rest>")
def environ(_rest=None):
    env = request.environ
    out = {}
    for key, value in env.items():
        if isinstance(value, (str, bool)):
            out[key] = value
        elif key == "wsgi.version":
            out[key] = list(value)
        elif key.startswith("wsgi."):
            out[key] = str(type(value))
    out["_types"] = {key: type(value).__name__ for key, value in env.items()}
    out["path_info_hex"] = env.get("PATH_INFO", "").encode("latin-1").hex()
    return jsonify(out)


@app.post("/echo")
def echo():
    if request.args.get("via") == "flask":
        data = request.get_data()
    else:
        stream, cl, chunks = request.environ["wsgi.input"], request.environ.get("CONTENT_LENGTH"), []
        remaining = int(cl) if cl else None
        while remaining is None or remaining > 0:
            chunk = stream.read(65536 if remaining is None else min(65536, remaining))
            if not chunk:
                break
            chunks.append(chunk)
            if remaining is not None:
                remaining -= len(chunk)
        data = b"".join(chunks)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "content_length": request.environ.get("CONTENT_LENGTH")}


@app.post("/lines")
def lines():
    stream, count, first = request.environ["wsgi.input"], 0, None
    while True:
        line = stream.readline()
        if not line:
            break
        count += 1
        if first is None:
            first = line.decode("latin-1")
    return {"lines": count, "first": first}


@app.get("/stream")
def stream():
    n, delay = int(request.args.get("n", 3)), float(request.args.get("delay", 0.5))

    def generate():
        for i in range(n):
            if i:
                time.sleep(delay)
            yield f"chunk{i}\n"
    return Response(generate(), mimetype="text/plain")


@app.get("/sse")
def sse():
    def generate():
        for i in range(3):
            if i:
                time.sleep(0.3)
            yield f"id: {i}\ndata: event{i}\n\n"
    return Response(generate(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})


@app.get("/slow")
def slow():
    if "mark" in request.args:
        print("slow-started-" + request.args["mark"], flush=True)
    time.sleep(float(request.args.get("s", 1.0)))
    return "slow done"


@app.get("/crash")
def crash():
    os._exit(1)


@app.get("/break-protocol")
def break_protocol():
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                os.write(int(fd), b"\xff" * 64)
        except OSError:
            pass
    time.sleep(10)
    return "unreachable"


@app.get("/raise")
def raise_():
    raise RuntimeError("secret-detail-4242")


@app.get("/raise-after-start")
def raise_after_start():
    def generate():
        yield "first-chunk\n"
        raise RuntimeError("after-start-4243")
    return Response(generate(), mimetype="text/plain")


@app.get("/file-sha")
def file_sha():
    return {"sha256": FILE_SHA, "size": len(FILE_CONTENT)}


@app.get("/close-count")
def close_count():
    return str(os.path.getsize(CLOSE_COUNTER) if os.path.exists(CLOSE_COUNTER) else 0)


@app.get("/print")
def print_():
    q = request.args.get("q", "")
    print(f"stdout-marker-{q}", flush=True)
    print(f"stderr-marker-{q}", file=sys.stderr, flush=True)
    errors = request.environ["wsgi.errors"]
    errors.write(f"wsgi-errors-marker-{q}\n")
    errors.flush()
    return "printed"


@app.get("/log-exception")
def log_exception():
    q = request.args.get("q", "")
    try:
        raise ValueError(f"logged-{q}")
    except ValueError:
        app.logger.exception("handled-%s", q)
    return "logged"


# The worker's pid comes as an argument: the worker may be gone before the child's Python starts.
_CHILD = (
    "import os, sys, time\n"
    "while os.getppid() == int(sys.argv[2]):\n"
    "    time.sleep(0.02)\n"
    "print(f'child-marker-{sys.argv[1]} {os.getpid()}', flush=True)\n"
    "time.sleep(60)\n"
)


@app.get("/spawn-child")
def spawn_child():
    child = subprocess.Popen([sys.executable, "-c", _CHILD, request.args.get("q", ""), str(os.getpid())])
    return f"{os.getpid()} {child.pid}"


@app.get("/pid")
def pid():
    return str(os.getpid())


_held = []


@app.get("/hold")
def hold():
    # Every page written, so the memory is resident and the worker's own (a leak, as a test sees one).
    _held.append(b"\x01" * (int(request.args["mib"]) * 1024 * 1024))
    return str(os.getpid())


@app.get("/threads")
def threads():
    start = time.monotonic()
    time.sleep(float(request.args.get("s", 0)))
    return {"thread": threading.get_ident(), "pid": os.getpid(), "start": start, "end": time.monotonic()}


TEXT_LINE = "The quick brown fox jumps over the lazy dog, and the compressor notices.\n"


@app.get("/text")
def text():
    size = int(request.args.get("size", 4096))
    body = (TEXT_LINE * (size // len(TEXT_LINE) + 1))[:size]
    response = Response(body, status=int(request.args.get("status", 200)),
                        content_type=request.args.get("type", "text/plain"))
    for arg, header in (("cc", "Cache-Control"), ("ce", "Content-Encoding")):
        if request.args.get(arg):
            response.headers[header] = request.args[arg]
    if request.args.get("etag"):
        response.headers["ETag"] = f'"{request.args["etag"]}"'
    return response


# ---- raw WSGI routes: things Flask would not let an app do, or would do for it ----

TEXT = [("Content-Type", "text/plain")]


def raw_file(environ, start_response):
    from urllib.parse import parse_qs
    content_type = parse_qs(environ.get("QUERY_STRING", "")).get("type", ["application/octet-stream"])[0]
    start_response("200 OK", [("Content-Type", content_type),
                              ("Content-Length", str(len(FILE_CONTENT)))])
    f = open(FILE_PATH, "rb")
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is None:  # optional in PEP 3333
        return iter(lambda: f.read(65536), b"")
    return wrapper(f, 65536)


def raw_big_file(environ, start_response):
    from urllib.parse import parse_qs
    size = int(parse_qs(environ.get("QUERY_STRING", "")).get("mb", ["32"])[0]) << 20
    path = os.path.join(STATE_DIR, f"big-{size}.bin")
    with open(path, "ab") as f:  # sparse, and the same size whichever worker gets here first
        f.truncate(size)
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))])
    return environ["wsgi.file_wrapper"](open(path, "rb"), 65536)


class _Descriptor:
    """A file-like object over a bare descriptor, as an app could hand to wsgi.file_wrapper."""

    def __init__(self, fd):
        self.fd = fd

    def fileno(self):
        return self.fd

    def tell(self):
        return 0

    def read(self, n=-1):
        return os.read(self.fd, n if n >= 0 else 1 << 20)

    def close(self):
        os.close(self.fd)


def raw_fd_file(environ, start_response):
    flags = os.O_PATH if "mode=path" in environ.get("QUERY_STRING", "") else os.O_WRONLY
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](_Descriptor(os.open(FILE_PATH, flags)))


def raw_double_start(environ, start_response):
    import gc
    from tapster_bridge import protocol
    from tapster_bridge.wsgi import Handler
    handler = next(o for o in gc.get_objects() if type(o) is Handler)
    head = protocol.encode_start([b"200 OK", b"Content-Length", b"35"])
    handler.sendall(head + protocol.encode_body(b"hello") + head)
    time.sleep(10)
    return []


def raw_short_body(environ, start_response):
    start_response("200 OK", TEXT + [("Content-Length", "100")])
    return [b"0123456789"]


def raw_long_body(environ, start_response):
    start_response("200 OK", TEXT + [("Content-Length", "5")])
    return [b"x" * 50]


def raw_hop_by_hop(environ, start_response):
    header = ("Transfer-Encoding", "chunked") if "h=te" in environ.get("QUERY_STRING", "") \
        else ("Connection", "close")
    start_response("200 OK", TEXT + [header])
    if "file=1" in environ.get("QUERY_STRING", ""):
        return environ["wsgi.file_wrapper"](open(FILE_PATH, "rb"))
    return [b"hop-by-hop body\n"]


def raw_write(environ, start_response):
    write = start_response("200 OK", TEXT)
    write(b"written-1\n")
    write(b"written-2\n")
    return [b"returned\n"]


def raw_exc_info(environ, start_response):
    start_response("200 OK", TEXT)

    def generate():
        yield b"first-chunk\n"
        try:
            raise ValueError("exc-info-4244")
        except ValueError:
            start_response("500 Internal Server Error", TEXT, sys.exc_info())
        yield b"not-reraised\n"
    return generate()


class CloseTracker:
    """Streams ticks; close() records itself in CLOSE_COUNTER (one byte per call, O_APPEND)."""

    def __init__(self, n, delay):
        self.n, self.delay = n, delay

    def __iter__(self):
        for i in range(self.n):
            yield f"tick{i}\n".encode()
            time.sleep(self.delay)

    def close(self):
        with open(CLOSE_COUNTER, "ab") as f:
            f.write(b".")


def raw_close_tracker(environ, start_response):
    from urllib.parse import parse_qs
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    start_response("200 OK", TEXT)
    return CloseTracker(int(qs.get("n", ["50"])[0]), float(qs.get("delay", ["0.1"])[0]))


def raw_own_headers(environ, start_response):
    start_response("200 OK", TEXT + [
        ("x-frame-options", "DENY"),
        ("Set-Cookie", "plain=1"),
        ("Set-Cookie", "flagged=1; Secure; HttpOnly; SameSite=Strict"),
        ("Set-Cookie", "pref=secure-httponly; Path=/"),
    ])
    return [b"own headers\n"]


RAW_ROUTES = {
    "/file": raw_file, "/big-file": raw_big_file, "/fd-file": raw_fd_file, "/double-start": raw_double_start, "/short-body": raw_short_body, "/long-body": raw_long_body,
    "/hop-by-hop": raw_hop_by_hop, "/write": raw_write, "/exc-info": raw_exc_info,
    "/close-tracker": raw_close_tracker, "/own-headers": raw_own_headers,
}


def _with_raw_routes(flask_wsgi_app):
    def dispatch(environ, start_response):
        if REQUEST_LOG:
            body = environ["wsgi.input"].read()
            environ["wsgi.input"] = io.BytesIO(body)
            line = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')} {len(body)}\n"
            fd = os.open(REQUEST_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                os.write(fd, line.encode("latin-1"))
            finally:
                os.close(fd)
        raw = RAW_ROUTES.get(environ.get("PATH_INFO", ""))
        return (raw or flask_wsgi_app)(environ, start_response)
    return dispatch


app.wsgi_app = _with_raw_routes(app.wsgi_app)
