"""Requests through Handler with a socketpair standing in for the C# side."""

import hashlib
import io
import json
import os
import sys
import threading
from wsgiref.validate import validator

import pytest
from flask import Flask, Response, request, send_file, stream_with_context

from tapster_bridge import protocol as p
from conftest import TIMEOUT, request_pairs
from tapster_bridge.wsgi import PeerGone

pytestmark = pytest.mark.filterwarnings("error::wsgiref.validate.WSGIWarning")


def flask_app(tmp_path):
    app = Flask("tapster_test")
    (tmp_path / "static.txt").write_bytes(b"static file contents\n" * 100)

    @app.get("/hello/<name>")
    def hello(name):
        return f"hello {name}"

    @app.post("/echo")
    def echo():
        data = request.get_data()
        return {"len": len(data), "sha": hashlib.sha256(data).hexdigest(),
                "form": request.form.to_dict(), "ctype": request.content_type}

    @app.get("/path/<path:rest>")
    def path(rest):
        return rest

    @app.get("/boom")
    def boom():
        raise ValueError("kaboom")

    @app.get("/headers")
    def headers():
        resp = Response("x")
        resp.headers.add("Set-Cookie", "a=1")
        resp.headers.add("Set-Cookie", "b=2")
        resp.headers["X-Latin"] = "caf\xe9"
        return resp

    @app.get("/file")
    def file():
        return send_file(tmp_path / "static.txt", mimetype="text/plain")

    return app


@pytest.fixture
def app(tmp_path):
    return flask_app(tmp_path)


@pytest.mark.parametrize("wrap", [False, True], ids=["plain", "validator"])
def test_flask_get(make_peer, app, wrap):
    peer = make_peer(validator(app) if wrap else app)
    r = peer.call("GET", "/hello/world")
    assert r.status == "200 OK"
    assert r.header("Content-Type") == ["text/html; charset=utf-8"]
    assert r.body == b"hello world"
    assert r.outcome == 0
    assert r.types == ["START", "BODY", "END"]
    # The same slot serves the next request.
    assert peer.call("GET", "/hello/again").body == b"hello again"


@pytest.mark.parametrize("wrap", [False, True], ids=["plain", "validator"])
def test_flask_post_inline_and_spooled(make_peer, app, tmp_path, wrap):
    peer = make_peer(validator(app) if wrap else app)
    body = b"a=1&b=caf%C3%A9"
    r = peer.call("POST", "/echo", body=body, content_type="application/x-www-form-urlencoded")
    assert r.status == "200 OK"
    assert json.loads(r.body)["form"] == {"a": "1", "b": "caf\xe9"}
    big = os.urandom(3 * 1024 * 1024)
    spool = tmp_path / "req.body"
    spool.write_bytes(big)
    r = peer.call("POST", "/echo", spool_path=str(spool), content_type="application/octet-stream")
    assert json.loads(r.body) == {"len": len(big), "sha": hashlib.sha256(big).hexdigest(), "form": {},
                                  "ctype": "application/octet-stream"}


def test_flask_utf8_path_bytes(make_peer, app):
    # The C# side percent-decodes to bytes and sends them latin-1: werkzeug turns them back into UTF-8 text.
    r = make_peer(app).call("GET", "/path/caf\xc3\xa9")
    assert r.body.decode() == "caf\xe9"


def test_duplicate_and_latin1_headers(make_peer, app):
    r = make_peer(app).call("GET", "/headers")
    assert r.header("Set-Cookie") == ["a=1", "b=2"]
    assert r.header("X-Latin") == ["caf\xe9"]


def test_list_response_is_one_sendall(make_peer):
    def app(environ, start_response):
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [b"one", b"", b"two"]

    peer = make_peer(app)
    r = peer.call()
    assert (r.status, r.body, r.types) == ("201 Created", b"onetwo", ["START", "BODY", "BODY", "END"])
    assert len(peer.wire.sends) == 1


def test_flask_exception_gives_500(make_peer, app):
    peer = make_peer(app)
    r = peer.call("GET", "/boom")
    # Flask turns it into its own 500 page; the app still answered normally.
    assert r.status == "500 INTERNAL SERVER ERROR"


def test_exception_before_start(make_peer):
    def app(environ, start_response):
        start_response("200 OK", [])
        raise RuntimeError("secret detail")

    peer = make_peer(app)
    r = peer.call()
    assert r.status == "500 Internal Server Error"
    assert r.header("Content-Type") == ["text/plain; charset=utf-8"]
    assert r.body == b"Internal Server Error\n"
    assert r.outcome == 0
    assert b"secret" not in r.body
    assert "RuntimeError: secret detail" in r.log and "req-1" in r.log
    assert r.types == ["LOG", "START", "BODY", "END"]  # the traceback is one record, before the response
    assert peer.errors.getvalue() == ""


def test_exception_in_generator_before_first_chunk(make_peer):
    def app(environ, start_response):
        start_response("200 OK", [])
        yield b""
        raise RuntimeError("late but nothing sent")

    r = make_peer(app).call()
    assert r.status == "500 Internal Server Error"


@pytest.mark.parametrize("status,headers", [
    ("200", []), (200, []), ("200 OK", [("X", "a\r\nInjected: 1")]), ("200 OK", [("X", "\u20ac")]),
    ("200 OK", (("X", "y"),)), ("200 OK", [("X", 1)]), ("200 OK", [["X", "y"]]), ("200 OK\n", []),
    ("200 OK", [("X", "a\x00")]), ("200 OK", [("X", "a\x7f")]), ("200 OK", [("X", "caf\xe9\x01")]),
    ("200 OK", [("X", "a\tb\x0b")]),
])
def test_bad_start_response_arguments(make_peer, status, headers):
    def app(environ, start_response):
        start_response(status, headers)
        return [b"x"]

    peer = make_peer(app)
    assert peer.call().status == "500 Internal Server Error"


def test_tabs_and_latin1_text_in_header_values_are_sent_as_they_are(make_peer):
    def app(environ, start_response):
        start_response("200 OK", [("X-Tab", "a\tb"), ("X-Latin", "caf\xe9")])
        return [b"x"]

    r = make_peer(app).call()
    assert (r.status, r.header("X-Tab"), r.header("X-Latin")) == ("200 OK", ["a\tb"], ["caf\xe9"])


def test_start_response_twice(make_peer):
    def app(environ, start_response):
        start_response("200 OK", [])
        start_response("200 OK", [])
        return []

    assert make_peer(app).call().status == "500 Internal Server Error"


def test_start_response_with_exc_info_before_and_after_start(make_peer):
    def before(environ, start_response):
        start_response("200 OK", [("X", "first")])
        try:
            raise KeyError("x")
        except KeyError:
            start_response("503 Service Unavailable", [("X", "second")], sys.exc_info())
        return [b"sorry"]

    r = make_peer(before).call()
    assert (r.status, r.header("X"), r.body) == ("503 Service Unavailable", ["second"], b"sorry")

    def after(environ, start_response):
        start_response("200 OK", [])
        yield b"partial"
        try:
            raise KeyError("x")
        except KeyError:
            start_response("500 Oops", [], sys.exc_info())  # re-raises: the head is gone already
        yield b"never"

    peer = make_peer(after)
    r = peer.call()
    assert (r.status, r.body, r.outcome) == ("200 OK", b"partial", 1)
    assert "KeyError" in r.log


def test_exception_after_start_ends_with_outcome_1(make_peer):
    closed = []

    class Body:
        def __iter__(self):
            yield b"first"
            raise RuntimeError("mid-stream")

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body()

    r = make_peer(app).call()
    assert (r.status, r.body, r.outcome, r.types) == ("200 OK", b"first", 1, ["START", "BODY", "LOG", "END"])
    assert "RuntimeError: mid-stream" in r.log
    assert closed == [True]


def test_str_chunk_is_an_app_error(make_peer):
    def app(environ, start_response):
        start_response("200 OK", [])
        return ["text"]

    assert make_peer(app).call().status == "500 Internal Server Error"


def test_streaming_sends_each_chunk_at_once(make_peer):
    got_first = threading.Event()
    closed = []

    def app(environ, start_response):
        def gen():
            try:
                yield b"data: one\n\n"
                assert got_first.wait(TIMEOUT), "the first chunk was held back"
                yield b""
                yield b"data: two\n\n"
            finally:
                closed.append(True)

        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return gen()

    peer = make_peer(app)
    peer.send_request(request_pairs())
    assert peer.read_frame()[0] == "START"
    assert peer.read_frame() == ("BODY", b"data: one\n\n")
    got_first.set()
    assert peer.read_frame() == ("BODY", b"data: two\n\n")
    assert peer.read_frame() == ("END", 0)
    peer.finish()
    assert closed == [True]
    assert len(peer.wire.sends) == 3  # START+BODY, BODY, END


def test_flask_streaming_response(make_peer):
    app = Flask("stream")

    @app.get("/s")
    def s():
        def gen():
            for i in range(3):
                yield f"{i}\n"
        return Response(stream_with_context(gen()), mimetype="text/plain")

    peer = make_peer(validator(app))
    r = peer.call("GET", "/s")
    assert r.body == b"0\n1\n2\n"
    assert r.types == ["START", "BODY", "BODY", "BODY", "END"]


def test_close_called_when_peer_disconnects_mid_stream(make_peer):
    peer_closed = threading.Event()
    closed = []

    class Body:
        def __iter__(self):
            yield b"first"
            assert peer_closed.wait(TIMEOUT)
            for _ in range(100):
                yield b"more" * 1000

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body()

    peer = make_peer(app)
    peer.send_request(request_pairs())
    assert peer.read_frame()[0] == "START"
    assert peer.read_frame() == ("BODY", b"first")
    peer.cs_sock.close()
    peer_closed.set()
    peer.thread.join(TIMEOUT)
    assert isinstance(peer.error, PeerGone)
    assert closed == [True]


def test_head_sends_no_body(make_peer, app):
    peer = make_peer(app)
    r = peer.call("HEAD", "/hello/x")
    assert r.types == ["START", "END"]
    assert r.header("Content-Length") == ["7"]

    calls = []

    def gen_app(environ, start_response):
        def gen():
            try:
                calls.append("first")
                start_response("200 OK", [("X-Lazy", "1")])  # lazily, during the first iteration
                yield b"abc"
                calls.append("second")
                yield b"def"
            finally:
                calls.append("closed")
        return gen()

    r = make_peer(gen_app).call("HEAD")
    assert r.types == ["START", "END"] and r.header("X-Lazy") == ["1"]
    assert calls == ["first", "closed"]

    def failing(environ, start_response):
        raise RuntimeError("x")

    assert make_peer(failing).call("HEAD").types == ["LOG", "START", "END"]  # LOG: the traceback


def test_write_callable(make_peer):
    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"")
        write(b"written ")
        return [b"returned"]

    peer = make_peer(validator(app))
    r = peer.call()
    assert r.body == b"written returned"
    assert r.types == ["START", "BODY", "BODY", "END"]
    # write() sent START with its chunk at once, before the app even returned.
    assert peer.wire.sends[0] == p.encode_start([b"200 OK", b"Content-Type", b"text/plain"]) + p.encode_body(b"written ")

    def head_app(environ, start_response):
        start_response("200 OK", [])(b"x")
        return []

    assert make_peer(head_app).call("HEAD").types == ["START", "END"]


def test_file_wrapper_sends_file_and_waits_for_file_opened(make_peer, tmp_path):
    data = bytes(range(256)) * 40
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    closed = []

    def app(environ, start_response):
        f = open(path, "rb")
        f.seek(100)
        real_close = f.close
        f.close = lambda: (closed.append(True), real_close())
        start_response("200 OK", [("Content-Length", str(len(data) - 100))])
        return environ["wsgi.file_wrapper"](f)

    peer = make_peer(app)
    peer.send_request(request_pairs())
    assert peer.read_frame()[0] == "START"
    name, (fd, offset, count) = peer.read_frame()
    assert (name, offset, count) == ("FILE", 100, len(data) - 100)
    assert not closed  # the file stays open until we said FILE_OPENED
    # What the C# side does: open it through /proc (here it is our own pid).
    with open(f"/proc/{os.getpid()}/fd/{fd}", "rb") as f:
        f.seek(offset)
        assert f.read(count) == data[100:]
    peer.cs_sock.sendall(p.encode_file_opened(1))
    assert peer.read_frame() == ("END", 0)
    peer.finish()
    assert closed == [True]


def test_file_wrapper_fallbacks(make_peer, tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * 20000)

    def app(environ, start_response):
        start_response("200 OK", [])
        return environ["wsgi.file_wrapper"](open(path, "rb"), 8192)

    # The C# side could not open it: it fails the request itself, the worker only ends it.
    peer = make_peer(app)
    peer.send_request(request_pairs())
    assert peer.read_frame()[0] == "START"
    assert peer.read_frame()[1][2] == -1  # no Content-Length: to the end of the file
    peer.cs_sock.sendall(p.encode_file_opened(0))
    assert peer.read_reply().types == ["END"]

    # Not a regular file (no fileno at all): iterated in blksize blocks.

    def app2(environ, start_response):
        start_response("200 OK", [])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"y" * 10), 4)

    assert make_peer(app2).call().types == ["START", "BODY", "BODY", "BODY", "END"]

    # A regular file that says it is empty (procfs: /proc/self/status has content all the same).

    def app3(environ, start_response):
        start_response("200 OK", [])
        return environ["wsgi.file_wrapper"](open("/proc/self/status", "rb"))

    reply = make_peer(app3).call()
    assert reply.types[0] == "START" and "FILE" not in reply.types
    assert b"Pid:" in b"".join(value for name, value in reply.frames if name == "BODY")


def test_cancel_stops_a_stream(make_peer):
    resumed = threading.Event()
    cancel_sent = threading.Event()
    produced = []
    closed = []

    def app(environ, start_response):
        def gen():
            try:
                produced.append(1)
                yield b"one"
                resumed.set()  # the worker has polled after "one" and found nothing
                assert cancel_sent.wait(TIMEOUT)
                produced.append(2)
                yield b"two"
                produced.append(3)
                yield b"three"
            finally:
                closed.append(True)

        start_response("200 OK", [])
        return gen()

    peer = make_peer(app)
    peer.send_request(request_pairs())
    assert peer.read_frame()[0] == "START"
    assert peer.read_frame() == ("BODY", b"one")
    assert resumed.wait(TIMEOUT)
    peer.cs_sock.sendall(p.CANCEL_FRAME)
    cancel_sent.set()
    # "two" was on its way when the worker polled; it stops at that chunk boundary.
    assert peer.read_frame() == ("BODY", b"two")
    assert peer.read_frame() == ("END", p.OUTCOME_CANCELLED)
    peer.finish()
    assert produced == [1, 2] and closed == [True]


def test_cancel_while_waiting_for_file_opened(make_peer, tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"data")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "4")])
        return environ["wsgi.file_wrapper"](open(path, "rb"))

    peer = make_peer(app)
    peer.send_request(request_pairs())
    assert peer.read_frame()[0] == "START"
    assert peer.read_frame()[1][1:] == (0, 4)
    peer.cs_sock.sendall(p.CANCEL_FRAME + p.encode_file_opened(1))
    assert peer.read_frame() == ("END", p.OUTCOME_CANCELLED)
    peer.finish()


def test_flask_send_file_uses_file_frame(make_peer, app, tmp_path):
    peer = make_peer(app)
    seen = []

    def on_file(value):
        fd, offset, count = value
        with open(f"/proc/{os.getpid()}/fd/{fd}", "rb") as f:
            f.seek(offset)
            seen.append(f.read() if count < 0 else f.read(count))
        peer.cs_sock.sendall(p.encode_file_opened(1))

    peer.send_request(request_pairs(path="/file"))
    r = peer.read_reply(on_file=on_file)
    assert r.types == ["START", "FILE", "END"]
    assert seen == [(tmp_path / "static.txt").read_bytes()]
    assert r.file[2] == len(seen[0])  # Content-Length became the count



def test_an_iterator_that_completes_its_content_length_ends_in_the_same_write(make_peer):
    """Flask's one-chunk iterator: START, BODY and END leave in one write, nothing follows."""
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "5")])
        return iter([b"hello"])

    peer = make_peer(app)
    r = peer.call()
    assert (r.body, r.types) == (b"hello", ["START", "BODY", "END"])
    assert len(peer.wire.sends) == 1


def test_bytes_past_the_content_length_are_dropped_and_logged(make_peer):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "5")])
        return iter([b"hello", b"extra"])

    peer = make_peer(app)
    r = peer.call()
    assert (r.body, r.types, r.outcome) == (b"hello", ["LOG", "START", "BODY", "END"], 0)
    assert "more than its Content-Length" in r.log
