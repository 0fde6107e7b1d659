"""wsgi.errors: records of the request on the slot's response connection, everything else on stderr."""

import logging
import threading

import pytest

from conftest import TIMEOUT, request_pairs
from tapster_bridge import protocol as p
from tapster_bridge.wsgi import PeerGone


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
