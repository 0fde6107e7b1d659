"""wsgi.errors: records of the request on the slot's response connection, everything else on stderr."""

import io
import logging
import sys
import threading

import pytest

from conftest import TIMEOUT, request_pairs
from tapster_bridge import protocol as p
from tapster_bridge.wsgi import PeerGone, StreamRouter, forget_requests
from tapster_bridge.worker import route_output


def ok(start_response, body=b"ok"):
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_a_logged_exception_is_one_record_with_its_traceback(make_peer):
    def app(environ, start_response):
        logger = logging.Logger("shop")
        logger.addHandler(logging.StreamHandler(environ["wsgi.errors"]))
        try:
            1 / 0
        except ZeroDivisionError:
            logger.exception("Exception on /cart [POST]")
        return ok(start_response)

    peer = make_peer(app)
    r = peer.call()
    assert r.body == b"ok"
    (record,) = r.logs
    assert record.startswith("Exception on /cart [POST]\nTraceback (most recent call last):\n")
    assert record.endswith("ZeroDivisionError: division by zero")  # its line end is the log's business
    assert r.types[0] == "LOG"
    assert peer.errors.getvalue() == ""


def test_each_flush_ends_a_record_and_the_rest_goes_out_before_END(make_peer):
    def app(environ, start_response):
        errors = environ["wsgi.errors"]
        errors.write("first ")
        errors.writelines(["part\n", "and more\n"])
        errors.flush()
        print("second", "record", file=errors)
        errors.write("no newline at the end")
        return ok(start_response)

    r = make_peer(app).call()
    assert r.logs == ["first part\nand more", "second record\nno newline at the end"]
    assert r.types == ["LOG", "LOG", "START", "BODY", "END"]
    assert r.log_flags == [p.LOG_WSGI_ERRORS, p.LOG_WSGI_ERRORS]


def test_a_flush_with_nothing_written_sends_nothing(make_peer):
    def app(environ, start_response):
        environ["wsgi.errors"].flush()
        environ["wsgi.errors"].write("\n")  # an empty record is none
        return ok(start_response)

    assert make_peer(app).call().types == ["START", "BODY", "END"]


def test_a_streamed_response_carries_its_records_between_the_chunks(make_peer):
    def app(environ, start_response):
        start_response("200 OK", [])
        yield b"one"
        environ["wsgi.errors"].write("between\n")
        environ["wsgi.errors"].flush()
        yield b"two"

    r = make_peer(app).call()
    assert (r.body, r.logs) == (b"onetwo", ["between"])
    assert r.types == ["START", "BODY", "LOG", "BODY", "END"]


def test_a_write_from_another_thread_goes_to_stderr(make_peer):
    def app(environ, start_response):
        errors = environ["wsgi.errors"]
        t = threading.Thread(target=lambda: (errors.write("from a thread\n"), errors.flush()))
        t.start()
        t.join()
        return ok(start_response)

    peer = make_peer(app)
    r = peer.call()
    assert r.logs == []
    assert peer.errors.getvalue() == "from a thread\n"


def test_a_write_after_the_request_goes_to_stderr(make_peer):
    kept = []

    def app(environ, start_response):
        kept.append(environ["wsgi.errors"])
        return ok(start_response)

    peer = make_peer(app)
    assert peer.call().logs == []
    kept[0].write("late\n")  # this thread never ran a request
    assert peer.errors.getvalue() == "late\n"


def test_a_huge_record_goes_out_in_pieces_and_nothing_is_lost(make_peer):
    text = "".join(f"line {i:06d}\n" for i in range(20000))  # 240,000 characters

    def app(environ, start_response):
        environ["wsgi.errors"].write(text)
        environ["wsgi.errors"].flush()
        return ok(start_response)

    r = make_peer(app).call()
    assert len(r.logs) > 1
    assert all(len(record) <= p.MAX_LOG_CHARS for record in r.logs)
    assert "".join(r.logs) == text.rstrip("\n")


def test_text_that_is_not_utf8_encodable_is_escaped_not_fatal(make_peer):
    def app(environ, start_response):
        environ["wsgi.errors"].write("bad \udcff surrogate\n")
        return ok(start_response)

    r = make_peer(app).call()
    assert (r.body, r.logs) == (b"ok", ["bad \\udcff surrogate"])


def test_bytes_written_to_wsgi_errors_are_an_app_error_like_a_text_file_would_raise(make_peer):
    def app(environ, start_response):
        with pytest.raises(TypeError):
            environ["wsgi.errors"].write(b"bytes")
        return ok(start_response)

    assert make_peer(app).call().body == b"ok"


def test_what_waits_when_the_slot_fails_goes_to_stderr(make_peer):
    peer_gone = threading.Event()

    def app(environ, start_response):
        environ["wsgi.errors"].write("pending\n")
        peer_gone.wait(TIMEOUT)
        start_response("200 OK", [])
        yield b"x"  # cannot be sent: the C# side closed the slot

    peer = make_peer(app)
    peer.send_request(request_pairs())
    peer.cs_sock.close()
    peer_gone.set()
    peer.thread.join(TIMEOUT)
    assert isinstance(peer.error, PeerGone)
    assert peer.errors.getvalue() == "pending\n"


@pytest.fixture
def route(monkeypatch):
    """Call in the test's body (pytest sets its own sys.stderr when the call starts): sys.stderr as in
    a worker, a StreamRouter over a stream the test can read, which it returns."""
    def make():
        real = io.StringIO()
        monkeypatch.setattr(sys, "stderr", StreamRouter(real, p.LOG_STDERR))
        return real
    return make


def test_what_a_request_writes_to_stderr_is_its_records_one_per_line_ending_write(make_peer, route):
    routed_stderr = route()

    def app(environ, start_response):
        print("plain", "print", file=sys.stderr)
        sys.stderr.write("a message\nand its second line\n")
        sys.stderr.write("no newline yet")
        return ok(start_response)

    r = make_peer(app).call()
    assert r.logs == ["plain print", "a message\nand its second line", "no newline yet"]
    assert r.log_flags == [p.LOG_STDERR] * 3
    assert routed_stderr.getvalue() == ""


def test_a_logging_handler_on_stderr_makes_one_record_per_logging_record(make_peer, route):
    routed_stderr = route()

    logger = logging.Logger("app")
    logger.addHandler(logging.StreamHandler())  # sys.stderr as it is when the handler is made

    def app(environ, start_response):
        try:
            {}["missing"]
        except KeyError:
            logger.exception("lookup failed")
        return ok(start_response)

    r = make_peer(app).call()
    (record,) = r.logs
    assert record.startswith("lookup failed\nTraceback (most recent call last):") and record.endswith("KeyError: 'missing'")
    assert r.log_flags == [p.LOG_STDERR]


def test_records_from_the_two_streams_never_share_a_frame(make_peer, route):
    routed_stderr = route()

    def app(environ, start_response):
        environ["wsgi.errors"].write("to wsgi.errors, ")
        sys.stderr.write("to stderr\n")
        return ok(start_response)

    r = make_peer(app).call()
    assert list(zip(r.logs, r.log_flags)) == [("to wsgi.errors, ", p.LOG_WSGI_ERRORS), ("to stderr", p.LOG_STDERR)]


def test_stderr_outside_a_request_and_its_other_attributes_are_the_real_streams(make_peer, route):
    routed_stderr = route()

    def app(environ, start_response):
        thread = threading.Thread(target=lambda: print("from a thread", file=sys.stderr))
        thread.start()
        thread.join()
        return ok(start_response)

    peer = make_peer(app)
    peer.call()
    print("between requests", file=sys.stderr)
    assert routed_stderr.getvalue() == "from a thread\nbetween requests\n"
    assert sys.stderr.getvalue() == routed_stderr.getvalue()  # any other attribute: the real stream's


def test_a_forked_child_writes_to_stderr_not_to_its_parents_request(make_peer, route):
    routed_stderr = route()

    def app(environ, start_response):
        forget_requests()  # what the worker's at-fork handler does in the child
        print("in the child", file=sys.stderr)
        return ok(start_response)

    r = make_peer(app).call()
    assert r.logs == []
    assert routed_stderr.getvalue() == "in the child\n"


def test_what_a_request_prints_is_its_records_from_stdout(make_peer, monkeypatch):
    real = io.StringIO()
    monkeypatch.setattr(sys, "stdout", StreamRouter(real, p.LOG_STDOUT))

    def app(environ, start_response):
        print("debugging", 42)
        return ok(start_response)

    r = make_peer(app).call()
    assert (r.logs, r.log_flags) == (["debugging 42"], [p.LOG_STDOUT])
    print("outside")
    assert real.getvalue() == "outside\n"


def test_a_workers_output_handlers_set_up_before_it_started_are_routed_too(monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    to_err = logging.StreamHandler(err)  # as a preloaded app's logging.basicConfig() holds it
    to_out = logging.StreamHandler(out)
    elsewhere = logging.StreamHandler(io.StringIO())

    route_output()

    assert isinstance(sys.stderr, StreamRouter) and sys.stderr.stream is err
    assert isinstance(sys.stdout, StreamRouter) and sys.stdout.stream is out
    assert (to_err.stream, to_out.stream) == (sys.stderr, sys.stdout)
    assert elsewhere.stream not in (sys.stdout, sys.stderr)
