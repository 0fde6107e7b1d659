"""Frame codec for the Tapster worker protocol (docs/protocol.md is the contract).

Everything here sits on the per-request path, so the structs are compiled once, payloads are
handed out as memoryview slices of one reusable receive buffer, and frames are encoded with
plain bytes concatenation.
"""

import struct

MAGIC = b"TPST"
VERSION = 4
MAX_PAYLOAD = 2 * 1024 * 1024

# Frame types.
HELLO = 0x01
WELCOME = 0x02
READY = 0x03
BOOT_ERROR = 0x04
REQUEST = 0x10
FILE_OPENED = 0x11
CANCEL = 0x12
FORK = 0x20
FORKED = 0x21
EXITED = 0x22
START = 0x30
BODY = 0x31
FILE = 0x32
END = 0x33
LOG = 0x34

TYPE_NAMES = {
    HELLO: "HELLO", WELCOME: "WELCOME", READY: "READY", BOOT_ERROR: "BOOT_ERROR",
    REQUEST: "REQUEST", FILE_OPENED: "FILE_OPENED", CANCEL: "CANCEL", FORK: "FORK", FORKED: "FORKED",
    EXITED: "EXITED", START: "START", BODY: "BODY", FILE: "FILE", END: "END", LOG: "LOG",
}

# HELLO roles.
ROLE_ZYGOTE = 0
ROLE_CONTROL = 1
ROLE_SLOT = 2
ROLE_SLOT_RESPONSES = 3
ROLE_STDOUT = 4  # after WELCOME: the raw bytes of the worker's fd 1, no frames
ROLE_STDERR = 5  # the same for fd 2

# REQUEST body kinds.
BODY_NONE = 0
BODY_INLINE = 1
BODY_SPOOLED = 2

# END outcomes.
OUTCOME_OK = 0
OUTCOME_FAILED = 1
OUTCOME_CANCELLED = 2

HEADER = struct.Struct("<IBBH")
HEADER_SIZE = HEADER.size
_HELLO = struct.Struct("<4sHBBIIHH16s")
_WELCOME = struct.Struct("<4sH")
_U8 = struct.Struct("<B")
_U32 = struct.Struct("<I")
_FORKED = struct.Struct("<II")
_EXITED = struct.Struct("<Ii")
_FILE = struct.Struct("<iIQq")
_REQUEST_HEAD = struct.Struct("<BBH")

_pack_header = HEADER.pack
_unpack_header = HEADER.unpack_from
_unpack_u32 = _U32.unpack_from


class ProtocolError(Exception):
    """The peer broke the protocol; the connection (and the worker) must go.

    `kind` is one of: oversize, unknown_type, reserved, bad_table, bad_payload, truncated.
    """

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def frame(ftype, payload=b""):
    """One complete frame (flags 0) as bytes."""
    return _pack_header(len(payload), ftype, 0, 0) + payload


def check_header(length, ftype, reserved):
    if length > MAX_PAYLOAD:
        raise ProtocolError("oversize", f"payload length {length} > {MAX_PAYLOAD}")
    if ftype not in TYPE_NAMES:
        raise ProtocolError("unknown_type", f"unknown frame type 0x{ftype:02x}")
    if reserved:
        raise ProtocolError("reserved", f"reserved field is 0x{reserved:04x}")


def decode_frame(data):
    """Split exactly one frame held in `data` into (type, flags, payload memoryview)."""
    if len(data) < HEADER_SIZE:
        raise ProtocolError("truncated", "frame shorter than its header")
    length, ftype, flags, reserved = _unpack_header(data, 0)
    check_header(length, ftype, reserved)
    if len(data) != HEADER_SIZE + length:
        raise ProtocolError("truncated", f"frame says {length} payload bytes, has {len(data) - HEADER_SIZE}")
    return ftype, flags, memoryview(data)[HEADER_SIZE:]


# --- string tables -------------------------------------------------------------------------

# Struct for "n little-endian u32", cached because tables of the same size repeat constantly.
_u32_arrays = {}


def _u32_array(n):
    s = _u32_arrays.get(n)
    if s is None:
        s = struct.Struct(f"<{n}I")
        if n <= 512:
            _u32_arrays[n] = s
    return s


def encode_table(strings, data=None):
    """String table of a list of bytes objects; `data` is b"".join(strings) if the caller has it."""
    n = len(strings)
    return _u32_array(n + 1).pack(n, *map(len, strings)) + (b"".join(strings) if data is None else data)


def table_spans(buf, pos, end):
    """Parse the table at buf[pos:end] -> (lengths tuple, offset of the first string, offset after the last)."""
    if end - pos < 4:
        raise ProtocolError("bad_table", "no room for the string count")
    (n,) = _unpack_u32(buf, pos)
    pos += 4
    if n > (end - pos) >> 2:
        raise ProtocolError("bad_table", f"{n} string lengths run past the payload")
    lens = _u32_array(n).unpack_from(buf, pos)
    pos += 4 * n
    stop = pos + sum(lens)
    if stop > end:
        raise ProtocolError("bad_table", "strings run past the payload")
    return lens, pos, stop


def decode_table(buf, pos=0, end=None):
    """-> (list of bytes, offset after the table)."""
    if end is None:
        end = len(buf)
    lens, pos, stop = table_spans(buf, pos, end)
    out = []
    for n in lens:
        out.append(bytes(buf[pos:pos + n]))
        pos += n
    return out, stop


def _whole_table(payload):
    strings, stop = decode_table(payload)
    if stop != len(payload):
        raise ProtocolError("bad_payload", "bytes after the string table")
    return strings


# --- handshake -----------------------------------------------------------------------------

def encode_hello(role, worker_id, pid, slot, token):
    return frame(HELLO, _HELLO.pack(MAGIC, VERSION, role, 0, worker_id, pid, slot, 0, token))


def decode_hello(payload):
    """-> (version, role, worker_id, pid, slot, token)."""
    if len(payload) != _HELLO.size:
        raise ProtocolError("bad_payload", f"HELLO is {len(payload)} bytes")
    magic, version, role, _, worker_id, pid, slot, _, token = _HELLO.unpack(payload)
    if magic != MAGIC:
        raise ProtocolError("bad_payload", f"bad magic {bytes(magic)!r}")
    return version, role, worker_id, pid, slot, token


def encode_welcome(version=VERSION):
    return frame(WELCOME, _WELCOME.pack(MAGIC, version))


def decode_welcome(payload):
    """-> version."""
    if len(payload) != _WELCOME.size:
        raise ProtocolError("bad_payload", f"WELCOME is {len(payload)} bytes")
    magic, version = _WELCOME.unpack(payload)
    if magic != MAGIC:
        raise ProtocolError("bad_payload", f"bad magic {bytes(magic)!r}")
    return version


# --- zygote --------------------------------------------------------------------------------

READY_FRAME = frame(READY)


def encode_boot_error(kind, python, message, traceback):
    return frame(BOOT_ERROR, encode_table([s.encode("utf-8", "replace") for s in (kind, python, message, traceback)]))


def decode_boot_error(payload):
    """-> [kind, python, message, traceback] as str."""
    strings = _whole_table(payload)
    if len(strings) != 4:
        raise ProtocolError("bad_payload", f"BOOT_ERROR has {len(strings)} strings, not 4")
    return [s.decode("utf-8", "replace") for s in strings]


def _fixed(payload, st, name):
    if len(payload) != st.size:
        raise ProtocolError("bad_payload", f"{name} is {len(payload)} bytes, not {st.size}")
    return st.unpack(payload)


def encode_fork(worker_id):
    return frame(FORK, _U32.pack(worker_id))


def decode_fork(payload):
    return _fixed(payload, _U32, "FORK")[0]


def encode_forked(worker_id, pid):
    return frame(FORKED, _FORKED.pack(worker_id, pid))


def decode_forked(payload):
    """-> (worker_id, pid)."""
    return _fixed(payload, _FORKED, "FORKED")


def encode_exited(pid, status):
    return frame(EXITED, _EXITED.pack(pid, status))


def decode_exited(payload):
    """-> (pid, status)."""
    return _fixed(payload, _EXITED, "EXITED")


# --- requests ------------------------------------------------------------------------------

def encode_request(body_kind, pairs, body=b""):
    """`pairs`: iterable of (str, str) environ entries, encoded latin-1; `body`: the body section."""
    strings = []
    for key, value in pairs:
        strings.append(key.encode("latin-1"))
        strings.append(value.encode("latin-1"))
    return frame(REQUEST, _REQUEST_HEAD.pack(body_kind, 0, 0) + encode_table(strings) + body)


def decode_request(payload, environ):
    """Store the REQUEST's environ pairs into `environ`; -> (body kind, body section memoryview).

    Latin-1 maps byte n to code point n, so decoding all strings at once and slicing the text
    at the byte offsets gives the same result as decoding each string, only much faster.
    """
    end = len(payload)
    if end < 4:
        raise ProtocolError("bad_payload", "REQUEST too short")
    kind = payload[0]
    if kind > BODY_SPOOLED:
        raise ProtocolError("bad_payload", f"unknown body kind {kind}")
    lens, pos, stop = table_spans(payload, 4, end)
    if len(lens) & 1:
        raise ProtocolError("bad_table", "REQUEST table has an odd number of strings")
    text = str(payload[pos:stop], "latin-1")
    i = 0
    it = iter(lens)
    for klen, vlen in zip(it, it):
        j = i + klen
        k = j + vlen
        environ[text[i:j]] = text[j:k]
        i = k
    if kind == BODY_NONE and stop != end:
        raise ProtocolError("bad_payload", "body section present with body kind 0")
    return kind, payload[stop:]


CANCEL_FRAME = frame(CANCEL)


def encode_file_opened(ok):
    return frame(FILE_OPENED, _U8.pack(ok))


def decode_file_opened(payload):
    """-> ok (int)."""
    return _fixed(payload, _U8, "FILE_OPENED")[0]


# --- responses -----------------------------------------------------------------------------

def encode_start(strings, data=None):
    """START from [status, name0, value0, ...] already encoded as latin-1 bytes (see encode_table)."""
    return frame(START, encode_table(strings, data))


def decode_start(payload):
    """-> (status, [(name, value), ...]) as latin-1 str."""
    strings = _whole_table(payload)
    if not strings or not len(strings) & 1:
        raise ProtocolError("bad_table", "START needs a status and name/value pairs")
    text = [s.decode("latin-1") for s in strings]
    return text[0], list(zip(text[1::2], text[2::2]))


def encode_body(chunk):
    """BODY frame(s) for a bytes-like chunk; chunks above MAX_PAYLOAD are split."""
    n = len(chunk)
    if n <= MAX_PAYLOAD:
        return _pack_header(n, BODY, 0, 0) + chunk
    view = memoryview(chunk)
    return b"".join(encode_body(view[i:i + MAX_PAYLOAD]) for i in range(0, n, MAX_PAYLOAD))


def encode_file(fd, offset, count):
    return frame(FILE, _FILE.pack(fd, 0, offset, count))


def decode_file(payload):
    """-> (fd, offset, count)."""
    fd, _, offset, count = _fixed(payload, _FILE, "FILE")
    return fd, offset, count


def encode_end(outcome):
    return frame(END, _U8.pack(outcome))


# Characters of a record per LOG frame: a longer one (a huge traceback) goes out as several frames;
# 4 UTF-8 bytes each at most, so always far below MAX_PAYLOAD.
MAX_LOG_CHARS = 64 * 1024

# LOG flags: the stream the app wrote the record to.
LOG_WSGI_ERRORS = 0
LOG_STDERR = 1
LOG_STDOUT = 2


def encode_log(text, flags=LOG_WSGI_ERRORS):
    """One LOG frame of at most MAX_LOG_CHARS characters; unencodable characters (lone surrogates) escaped."""
    data = text.encode("utf-8", "backslashreplace")
    return _pack_header(len(data), LOG, flags, 0) + data


def decode_log(payload):
    return str(payload, "utf-8", "replace")


def decode_end(payload):
    """-> outcome."""
    return _fixed(payload, _U8, "END")[0]


END_OK_FRAME = encode_end(OUTCOME_OK)
END_FAILED_FRAME = encode_end(OUTCOME_FAILED)
END_CANCELLED_FRAME = encode_end(OUTCOME_CANCELLED)


# --- reading -------------------------------------------------------------------------------

class FrameReader:
    """Reads frames from a stream socket into one reusable buffer.

    read() returns (type, flags, payload) where payload is a memoryview into the buffer that
    stays valid only until the next read(): callers copy what they keep.
    """

    def __init__(self, sock, size=16384):
        self._recv_into = sock.recv_into
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
        self._start = 0
        self._end = 0

    def has_frame(self):
        """True when a complete frame is already buffered (read() will not block)."""
        avail = self._end - self._start
        return avail >= HEADER_SIZE and avail >= HEADER_SIZE + _unpack_u32(self._buf, self._start)[0]

    def read(self):
        """Next frame, or None on EOF at a frame boundary."""
        start = self._start
        end = self._end
        need = HEADER_SIZE
        while True:
            avail = end - start
            if avail >= HEADER_SIZE:
                length, ftype, flags, reserved = _unpack_header(self._buf, start)
                check_header(length, ftype, reserved)
                need = HEADER_SIZE + length
                if avail >= need:
                    stop = start + need
                    if stop == end:
                        self._start = self._end = 0
                    else:
                        self._start = stop
                    return ftype, flags, self._view[start + HEADER_SIZE:stop]
            if start + need > len(self._buf):
                self._make_room(start, end, need)
                start, end = 0, avail
            n = self._recv_into(self._view[end:])
            if not n:
                self._start = self._end = 0
                if avail:
                    raise ProtocolError("truncated", "connection closed inside a frame")
                return None
            end += n
            self._end = end
            self._start = start

    def _make_room(self, start, end, need):
        """Move the partial frame to the front, in a bigger buffer if it cannot fit."""
        if need > len(self._buf):
            buf = bytearray(max(need, min(2 * len(self._buf), HEADER_SIZE + MAX_PAYLOAD)))
            buf[:end - start] = self._view[start:end]
            self._buf = buf
            self._view = memoryview(buf)
        else:
            # Slicing copies first, so the overlapping move is safe.
            self._buf[:end - start] = self._buf[start:end]
        self._start = 0
        self._end = end - start
