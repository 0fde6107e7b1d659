"""The golden frames in testdata/frames: decode(.bin) == .json and encode(.json) == .bin."""

import json
import os

import pytest

from tapster_bridge import protocol as p

FRAMES = os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "frames")
VALID = sorted(f[:-4] for f in os.listdir(FRAMES) if f.endswith(".bin"))
INVALID = sorted(f[:-4] for f in os.listdir(os.path.join(FRAMES, "invalid")) if f.endswith(".bin"))
REQUIRED = {"hello", "hello_slot_responses", "hello_stderr", "welcome", "request_get", "request_inline_body", "request_spooled", "start", "body",
            "file", "file_opened", "end_ok", "end_failed", "fork", "forked", "exited", "ready", "boot_error",
            "cancel", "end_cancelled", "log", "log_stderr"}


def load(name):
    with open(os.path.join(FRAMES, name + ".bin"), "rb") as f:
        data = f.read()
    with open(os.path.join(FRAMES, name + ".json"), encoding="utf-8") as f:
        meaning = json.load(f)
    return data, meaning


def decode(data):
    ftype, flags, payload = p.decode_frame(data)
    out = {"type": p.TYPE_NAMES[ftype], "flags": flags}
    if ftype == p.HELLO:
        version, role, worker_id, pid, slot, token = p.decode_hello(payload)
        out.update(version=version, role=role, worker_id=worker_id, pid=pid, slot=slot, token_hex=token.hex())
    elif ftype == p.WELCOME:
        out["version"] = p.decode_welcome(payload)
    elif ftype == p.BOOT_ERROR:
        out.update(zip(("kind", "python", "message", "traceback"), p.decode_boot_error(payload)))
    elif ftype == p.REQUEST:
        environ = {}
        kind, body = p.decode_request(payload, environ)
        out.update(body_kind=kind, environ=environ)
        if kind == p.BODY_SPOOLED:
            out["spool_path"] = bytes(body).decode("utf-8")
        else:
            out["body_hex"] = bytes(body).hex()
    elif ftype == p.START:
        status, headers = p.decode_start(payload)
        out.update(status=status, headers=[list(h) for h in headers])
    elif ftype == p.BODY:
        out["body_hex"] = bytes(payload).hex()
    elif ftype == p.FILE:
        out.update(zip(("fd", "offset", "count"), p.decode_file(payload)))
    elif ftype == p.FILE_OPENED:
        out["ok"] = p.decode_file_opened(payload)
    elif ftype == p.END:
        out["outcome"] = p.decode_end(payload)
    elif ftype == p.LOG:
        out["text"] = p.decode_log(payload)
    elif ftype == p.FORK:
        out["worker_id"] = p.decode_fork(payload)
    elif ftype == p.FORKED:
        out["worker_id"], out["pid"] = p.decode_forked(payload)
    elif ftype == p.EXITED:
        out["pid"], out["status"] = p.decode_exited(payload)
    else:
        assert not payload
    return out


def encode(m):
    t = m["type"]
    if t == "LOG":
        return p.encode_log(m["text"], m["flags"])
    assert m["flags"] == 0
    if t == "HELLO":
        assert m["version"] == p.VERSION
        return p.encode_hello(m["role"], m["worker_id"], m["pid"], m["slot"], bytes.fromhex(m["token_hex"]))
    if t == "WELCOME":
        return p.encode_welcome(m["version"])
    if t == "READY":
        return p.READY_FRAME
    if t == "CANCEL":
        return p.CANCEL_FRAME
    if t == "BOOT_ERROR":
        return p.encode_boot_error(m["kind"], m["python"], m["message"], m["traceback"])
    if t == "REQUEST":
        body = m["spool_path"].encode() if m["body_kind"] == p.BODY_SPOOLED else bytes.fromhex(m["body_hex"])
        return p.encode_request(m["body_kind"], m["environ"].items(), body)
    if t == "START":
        strings = [m["status"]] + [s for h in m["headers"] for s in h]
        return p.encode_start([s.encode("latin-1") for s in strings])
    if t == "BODY":
        return p.encode_body(bytes.fromhex(m["body_hex"]))
    if t == "FILE":
        return p.encode_file(m["fd"], m["offset"], m["count"])
    if t == "FILE_OPENED":
        return p.encode_file_opened(m["ok"])
    if t == "END":
        return p.encode_end(m["outcome"])
    if t == "FORK":
        return p.encode_fork(m["worker_id"])
    if t == "FORKED":
        return p.encode_forked(m["worker_id"], m["pid"])
    if t == "EXITED":
        return p.encode_exited(m["pid"], m["status"])
    raise AssertionError(t)


def test_every_required_golden_exists():
    assert REQUIRED <= set(VALID)
    assert {"oversize", "unknown_type", "reserved", "bad_table"} <= set(INVALID)


@pytest.mark.parametrize("name", VALID)
def test_decode_golden(name):
    data, meaning = load(name)
    assert decode(data) == meaning


@pytest.mark.parametrize("name", VALID)
def test_encode_golden(name):
    data, meaning = load(name)
    assert encode(meaning) == data


def test_golden_environ_keeps_table_order():
    data, meaning = load("request_get")
    environ = {}
    p.decode_request(p.decode_frame(data)[2], environ)
    assert list(environ) == list(meaning["environ"])
    assert environ["PATH_INFO"] == "/caf\xe9"


@pytest.mark.parametrize("name", INVALID)
def test_invalid_golden(name):
    data, meaning = load("invalid/" + name)
    with pytest.raises(p.ProtocolError) as e:
        decode(data)
    assert e.value.kind == meaning["error"]
