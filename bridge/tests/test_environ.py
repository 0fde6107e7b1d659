"""Environ building: PEP 3333 keys and types, latin-1 decoding, wsgi.input semantics."""

import io
import sys

import pytest

from tapster_bridge import protocol as p
from tapster_bridge.wsgi import FileWrapper, base_environ, open_input
from conftest import request_pairs


def build(pairs, kind=p.BODY_NONE, body=b"", multithread=False):
    environ = base_environ(multithread, sys.stderr).copy()
    kind, section = p.decode_request(p.decode_frame(p.encode_request(kind, pairs, body))[2], environ)
    environ["wsgi.input"] = open_input(kind, section)
    return environ


def test_required_keys_and_types():
    env = build(request_pairs("POST", "/x", "a=b", content_type="text/plain", content_length=3), p.BODY_INLINE,
                b"abc", multithread=True)
    assert type(env) is dict
    for key in ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
                "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "wsgi.url_scheme", "HTTP_X_REQUEST_ID"):
        assert type(env[key]) is str, key
    assert env["wsgi.version"] == (1, 0)
    assert env["wsgi.multithread"] is True
    assert env["wsgi.multiprocess"] is True
    assert env["wsgi.run_once"] is False
    for name in ("write", "writelines", "flush"):
        assert callable(getattr(env["wsgi.errors"], name))
    for name in ("read", "readline", "readlines", "__iter__"):
        assert callable(getattr(env["wsgi.input"], name))
    assert env["wsgi.file_wrapper"] is FileWrapper
    assert build(request_pairs())["wsgi.multithread"] is False


def test_latin1_path_and_base_not_mutated():
    base = base_environ(False, sys.stderr)
    before = dict(base)
    env = base.copy()
    p.decode_request(p.decode_frame(p.encode_request(0, request_pairs(path="/caf\xe9"), b""))[2], env)
    assert env["PATH_INFO"] == "/caf\xe9"
    assert env["PATH_INFO"].encode("latin-1") == b"/caf\xe9"
    assert base == before


def test_input_reads():
    body = b"line one\nline two\n\nlast"
    env = build(request_pairs("POST", content_length=len(body)), p.BODY_INLINE, body)
    inp = env["wsgi.input"]
    assert inp.readline(4) == b"line"
    assert inp.readline() == b" one\n"
    assert inp.read(3) == b"lin"
    assert inp.readlines() == [b"e two\n", b"\n", b"last"]
    assert inp.read() == b""
    assert inp.read(10) == b""
    assert inp.readline() == b""


@pytest.mark.parametrize("how", ["read()", "read(-1)", "read(None)", "iter", "readlines(hint)"])
def test_input_read_all(how):
    body = b"a\nbb\nccc"
    inp = build(request_pairs("PUT", content_length=len(body)), p.BODY_INLINE, body)["wsgi.input"]
    if how == "read()":
        assert inp.read() == body
    elif how == "read(-1)":
        assert inp.read(-1) == body
    elif how == "read(None)":
        assert inp.read(None) == body
    elif how == "iter":
        assert list(inp) == [b"a\n", b"bb\n", b"ccc"]
    else:
        assert inp.readlines(2) == [b"a\n"]  # stops once the hint is reached
        assert inp.readlines(0) == [b"bb\n", b"ccc"]
    assert inp.read(1) == b""


def test_no_body_input_is_empty():
    inp = build(request_pairs())["wsgi.input"]
    assert inp.read() == b"" and inp.readline() == b"" and list(inp) == []


def test_spooled_body(tmp_path):
    body = bytes(range(256)) * 1000 + b"\nend"
    path = tmp_path / "spool \xe9.body"
    path.write_bytes(body)
    env = build(request_pairs("POST", content_length=len(body)), p.BODY_SPOOLED, str(path).encode("utf-8"))
    inp = env["wsgi.input"]
    assert inp.read(10) == body[:10]
    assert inp.read() == body[10:]
    assert inp.read() == b""
    inp.close()


def test_inline_body_is_copied_out_of_the_reader_buffer():
    # The payload memoryview is reused by the next read; wsgi.input must not depend on it.
    buf = bytearray(b"hello")
    inp = open_input(p.BODY_INLINE, memoryview(buf))
    buf[:] = b"XXXXX"
    assert inp.read() == b"hello"


def test_file_wrapper_iterates_blocks():
    closed = []
    f = io.BytesIO(b"0123456789")
    f.close = lambda: closed.append(True)
    w = FileWrapper(f, 4)
    assert list(w) == [b"0123", b"4567", b"89"]
    w.close()
    assert closed == [True]
    assert not hasattr(FileWrapper(iter([])), "close")
