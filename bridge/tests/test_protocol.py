"""Frame codec and FrameReader."""

import socket
import threading

import pytest

from tapster_bridge import protocol as p


class ChunkedSock:
    """A fake socket whose recv_into hands out the given pieces one per call."""

    def __init__(self, pieces):
        self.pieces = list(pieces)
        self.calls = 0

    def recv_into(self, buf):
        self.calls += 1
        if not self.pieces:
            return 0
        piece = self.pieces.pop(0)
        n = min(len(piece), len(buf))
        buf[:n] = piece[:n]
        if n < len(piece):
            self.pieces.insert(0, piece[n:])
        return n


def frames_of(reader):
    out = []
    while True:
        frame = reader.read()
        if frame is None:
            return out
        out.append((frame[0], bytes(frame[2])))


def test_round_trips():
    token = bytes(range(16, 32))
    assert p.decode_hello(p.decode_frame(p.encode_hello(2, 9, 123, 3, token))[2]) == (p.VERSION, 2, 9, 123, 3, token)
    assert p.decode_welcome(p.decode_frame(p.encode_welcome())[2]) == p.VERSION
    assert p.decode_fork(p.decode_frame(p.encode_fork(2**32 - 1))[2]) == 2**32 - 1
    assert p.decode_forked(p.decode_frame(p.encode_forked(1, 2))[2]) == (1, 2)
    assert p.decode_exited(p.decode_frame(p.encode_exited(5, -15))[2]) == (5, -15)
    assert p.decode_file(p.decode_frame(p.encode_file(3, 2**40, -1))[2]) == (3, 2**40, -1)
    assert p.decode_end(p.decode_frame(p.END_FAILED_FRAME)[2]) == 1
    assert p.decode_boot_error(p.decode_frame(p.encode_boot_error("spec", "py", "m\u00e9", "tb"))[2]) == [
        "spec", "py", "m\u00e9", "tb"]
    strings = [b"", b"a", b"\xff" * 300, b""]
    table = p.encode_table(strings)
    assert p.decode_table(table) == (strings, len(table))
    environ = {"untouched": 1}
    kind, body = p.decode_request(p.decode_frame(p.encode_request(1, [("A", "\xe9"), ("B", "")], b"xy"))[2],
                                  environ)
    assert (kind, bytes(body), environ) == (1, b"xy", {"untouched": 1, "A": "\xe9", "B": ""})


def test_bad_payloads():
    with pytest.raises(p.ProtocolError, match="bad_payload"):
        p.decode_fork(b"\0\0\0")
    with pytest.raises(p.ProtocolError, match="bad_payload"):
        p.decode_welcome(b"XXXX\x01\x00")
    with pytest.raises(p.ProtocolError) as e:
        p.decode_request(b"\0\0\0\0" + p.encode_table([b"odd"]), {})
    assert e.value.kind == "bad_table"
    with pytest.raises(p.ProtocolError) as e:
        p.decode_request(b"\x03\0\0\0" + p.encode_table([]), {})
    assert e.value.kind == "bad_payload"
    with pytest.raises(p.ProtocolError) as e:  # a count that alone runs past the payload
        p.decode_table(b"\xff\xff\xff\xff")
    assert e.value.kind == "bad_table"


def test_big_body_is_split():
    chunk = bytes(range(256)) * (p.MAX_PAYLOAD // 256 * 2 + 1)
    data = p.encode_body(chunk)
    reader = p.FrameReader(ChunkedSock([data]))
    got = frames_of(reader)
    assert [t for t, _ in got] == [p.BODY] * 3
    assert max(len(b) for _, b in got) == p.MAX_PAYLOAD
    assert b"".join(b for _, b in got) == chunk


def test_reader_byte_by_byte_and_many_per_recv():
    stream = p.encode_fork(1) + p.encode_body(b"hello") + p.READY_FRAME + p.encode_body(b"x" * 100000)
    expected = [(p.FORK, b"\1\0\0\0"), (p.BODY, b"hello"), (p.READY, b""), (p.BODY, b"x" * 100000)]
    assert frames_of(p.FrameReader(ChunkedSock([stream[i:i + 1] for i in range(len(stream))]))) == expected
    one = ChunkedSock([stream])
    reader = p.FrameReader(one, size=200000)
    assert reader.read()[0] == p.FORK
    assert reader.has_frame()
    assert frames_of(reader)[:2] == expected[1:3]
    assert one.calls == 2  # everything came from the first recv, the second one saw EOF


def test_reader_grows_and_compacts():
    # A small buffer: frames straddle its end and one frame is bigger than the buffer.
    frames = [p.encode_body(bytes([i]) * (i * 37 % 300)) for i in range(60)] + [p.encode_body(b"z" * 5000)]
    stream = b"".join(frames)
    pieces = [stream[i:i + 97] for i in range(0, len(stream), 97)]
    got = frames_of(p.FrameReader(ChunkedSock(pieces), size=64))
    assert [b for _, b in got] == [bytes([i]) * (i * 37 % 300) for i in range(60)] + [b"z" * 5000]


def test_reader_rejects_oversize_before_payload():
    a, b = socket.socketpair()
    with a, b:
        b.settimeout(5)
        a.sendall(p.HEADER.pack(p.MAX_PAYLOAD + 1, p.BODY, 0, 0))  # and no payload follows
        with pytest.raises(p.ProtocolError) as e:
            p.FrameReader(b).read()
        assert e.value.kind == "oversize"


@pytest.mark.parametrize("data,kind", [
    (p.HEADER.pack(0, 0x7F, 0, 0), "unknown_type"),
    (p.HEADER.pack(1, p.END, 0, 2) + b"\0", "reserved"),
    (p.encode_body(b"abc")[:-1], "truncated"),
])
def test_reader_errors(data, kind):
    with pytest.raises(p.ProtocolError) as e:
        p.FrameReader(ChunkedSock([data])).read()
    assert e.value.kind == kind


def test_reader_over_a_real_socket_with_partial_writes():
    a, b = socket.socketpair()
    with a, b:
        b.settimeout(5)
        data = p.encode_body(b"q" * 300000) + p.END_OK_FRAME

        def writer():
            for i in range(0, len(data), 4099):
                a.sendall(data[i:i + 4099])
            a.shutdown(socket.SHUT_WR)

        t = threading.Thread(target=writer)
        t.start()
        got = frames_of(p.FrameReader(b, size=1024))
        t.join(5)
        assert got == [(p.BODY, b"q" * 300000), (p.END, b"\0")]
