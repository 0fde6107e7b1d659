"""WSGI glue for one slot: REQUEST frame -> environ, app result -> START [FILE] BODY* END."""

import io
import os
import re
import select
import stat
import threading
import traceback

from .protocol import (
    BODY, BODY_INLINE, BODY_SPOOLED, CANCEL, END_CANCELLED_FRAME, END_FAILED_FRAME, END_OK_FRAME, FILE_OPENED,
    HEADER, LOG_WSGI_ERRORS, MAX_LOG_CHARS, MAX_PAYLOAD, TYPE_NAMES, ProtocolError, decode_file_opened,
    decode_request, encode_body, encode_file, encode_log, encode_start,
)

_pack_header = HEADER.pack
# Control characters but HTAB (RFC 9110 5.5): CR, LF and NUL would let a header value smuggle a
# header or end the head early, and the C# side refuses the others too.
_has_ctl = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]").search
# The START frame's string table: a count and one length per string, 4 bytes each.
_TABLE_OVERHEAD = 4


class PeerGone(BaseException):
    """The C# side closed the slot's connections.

    A BaseException so that an app's `except Exception:` around write() cannot swallow it:
    the request is over either way and the worker has to stop serving this slot.
    """


# Thread id -> the ErrorStream of the request that thread is running: where its sys.stdout and
# sys.stderr writes go.
_serving = {}


class ErrorStream:
    """wsgi.errors, which an app may write to and flush but not close.

    While a request runs, what the slot's own thread writes goes to the C# side as LOG records on the
    slot's response connection, which logs each as one event tagged with the request: a record ends at
    each flush() (a logging handler flushes after every record, so a message and its traceback stay
    together), and whatever is left goes out before END (PEP 3333 asks for no more than that without a
    flush). The same thread's writes to sys.stderr and sys.stdout come here too (see StreamRouter), as
    records of their own that also end with each write that ends a line, as a line-buffered stream
    would flush. Anything else, an app thread of its own or a write between requests, goes to the real
    stream (the worker's stderr for wsgi.errors), which is logged line by line. The bridge logs the
    app's exceptions here too; an app that closed sys.stderr's object itself would otherwise turn every
    later exception into a dead worker.
    """

    __slots__ = ("_stream", "_sendall", "_owner", "_parts", "_size", "_flags")

    def __init__(self, stream, sendall=None):
        self._stream = stream
        self._sendall = sendall  # None: no slot to send records on, everything goes to `stream`
        self._owner = None  # the slot thread's id while a request runs there
        self._parts = []
        self._size = 0
        self._flags = LOG_WSGI_ERRORS  # where the pending text was written

    def begin(self):
        """A request starts on this (the slot's) thread."""
        if self._sendall is not None:
            self._owner = owner = threading.get_ident()
            _serving[owner] = self

    def end(self):
        """The request's last record goes out; must come before END, after which nothing may."""
        try:
            self._emit()
        finally:
            self._leave()

    def abandon(self):
        """The slot is failing: what waits goes to stderr instead, so that nothing is lost."""
        self._leave()
        text = "".join(self._parts)
        self._parts.clear()
        self._size = 0
        if text:
            try:
                self._stream.write(text)
                self._stream.flush()
            except (OSError, ValueError, AttributeError):
                os.write(2, text.encode("utf-8", "backslashreplace"))

    def write(self, text):
        if self._owner is None or threading.get_ident() != self._owner:
            return self._stream.write(text)
        return self.record(text, LOG_WSGI_ERRORS)

    def record(self, text, flags):
        """Add the request thread's `text`, written to the stream `flags` names (LOG_WSGI_ERRORS, ...)."""
        if type(text) is not str:
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if flags != self._flags:
            self._emit()  # a record comes from one stream
            self._flags = flags
        self._parts.append(text)
        self._size += len(text)
        if self._size >= MAX_LOG_CHARS or (flags != LOG_WSGI_ERRORS and text.endswith("\n")):
            self._emit()
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if self._owner is None or threading.get_ident() != self._owner:
            self._stream.flush()
        else:
            self._emit()

    def close(self):
        pass

    def _leave(self):
        if self._owner is not None:
            _serving.pop(self._owner, None)
            self._owner = None

    def _emit(self):
        if not self._parts:
            return
        text = "".join(self._parts)
        self._parts.clear()
        self._size = 0
        if text.endswith("\n"):
            text = text[:-1]  # the record's own line end; the log adds its own
        flags = self._flags
        frames = b"".join(encode_log(text[i:i + MAX_LOG_CHARS], flags) for i in range(0, len(text), MAX_LOG_CHARS))
        if frames:
            try:
                self._sendall(frames)
            except OSError as e:
                raise PeerGone() from e


def forget_requests():
    """In a child the app forked: no request runs here, so stderr is stderr again."""
    for errors in list(_serving.values()):
        errors._owner = None
    _serving.clear()


class StreamRouter:
    """sys.stdout or sys.stderr of a worker: what a thread running a request writes becomes records of
    that request (see ErrorStream); everything else, and every other attribute, is the real stream's."""

    __slots__ = ("_stream", "_flags")

    def __init__(self, stream, flags):
        self._stream = stream
        self._flags = flags  # LOG_STDOUT or LOG_STDERR

    @property
    def stream(self):
        return self._stream

    def write(self, text):
        errors = _serving.get(threading.get_ident())
        if errors is None:
            return self._stream.write(text)
        return errors.record(text, self._flags)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        errors = _serving.get(threading.get_ident())
        if errors is None:
            self._stream.flush()
        else:
            errors.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class FileWrapper:
    """wsgi.file_wrapper: a regular file behind it is sent as a FILE frame, anything else is iterated."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        read = self.filelike.read
        blksize = self.blksize
        while True:
            block = read(blksize)
            if not block:
                return
            yield block


def base_environ(multithread, errors):
    """The per-worker constant part of the environ; each request starts from a copy."""
    return {
        "wsgi.version": (1, 0),
        "wsgi.multithread": multithread,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.errors": errors,
        "wsgi.file_wrapper": FileWrapper,
    }


def open_input(kind, body):
    """wsgi.input for a REQUEST body section; it holds exactly CONTENT_LENGTH bytes, so EOF is right."""
    if kind == BODY_INLINE:
        return io.BytesIO(body)  # copies: `body` lives in the reader's reusable buffer
    if kind == BODY_SPOOLED:
        return open(str(body, "utf-8"), "rb")
    return io.BytesIO()


def encode_head(status, headers):
    """Check start_response() arguments as PEP 3333 wants and encode them as a START frame."""
    if type(status) is not str:
        raise TypeError(f"status must be str, not {type(status).__name__}")
    if len(status) < 4 or status[3] != " " or not status[:3].isdigit() or status[0] in "01":
        # 1xx is interim: WSGI cannot send the real response after it.
        raise ValueError(f"status must look like '200 OK' (200-999), got {status!r}")
    if type(headers) is not list:
        raise TypeError(f"headers must be a list, not {type(headers).__name__}")
    # Latin-1 has one byte per character, so the str lengths are the byte lengths and the whole
    # head can be checked and encoded in one go instead of string by string.
    strings = [status]
    append = strings.append
    for header in headers:
        if type(header) is not tuple or len(header) != 2:
            raise TypeError(f"each header must be a (name, value) tuple, got {header!r}")
        name, value = header
        if type(name) is not str or type(value) is not str:
            raise TypeError(f"header name and value must be str, got {header!r}")
        append(name)
        append(value)
    text = "".join(strings)
    # Almost every head is printable ASCII, which two C-level scans prove; only the rest (a tab,
    # obs-text) needs the regex.
    if not (text.isascii() and text.isprintable()) and _has_ctl(text):
        raise ValueError(f"a control character in status or headers: {status!r} {headers!r}")
    data = text.encode("latin-1")  # UnicodeEncodeError (a ValueError) for anything beyond latin-1
    if len(data) + _TABLE_OVERHEAD * (len(strings) + 1) > MAX_PAYLOAD:
        raise ValueError(f"status and headers take {len(data)} bytes, more than a response head may ({MAX_PAYLOAD})")
    return encode_start(strings, data)


def _as_bytes(chunk):
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(f"response chunks must be bytes, not {type(chunk).__name__}")


def _content_length(headers):
    for name, value in headers:
        if name.lower() == "content-length":
            try:
                length = int(value)
            except ValueError:
                return -1  # the C# side refuses the header itself
            # Out of range: the C# side refuses the header itself.
            return length if 0 <= length < 1 << 63 else -1
    return -1


_ERROR_BODY = b"Internal Server Error\n"
_ERROR_HEAD = encode_head("500 Internal Server Error", [
    ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_ERROR_BODY)))])
ERROR_RESPONSE = _ERROR_HEAD + encode_body(_ERROR_BODY) + END_OK_FRAME
ERROR_RESPONSE_HEAD = _ERROR_HEAD + END_OK_FRAME


class Response:
    """State of one response: start_response()/write() for the app, frame sending for the handler.

    START is encoded when start_response() is called (so bad arguments raise right there) and sent
    with the first non-empty body chunk, or at the end, as PEP 3333 asks. The last frames (END, and
    with it the final chunk when that completes the Content-Length) wait in `tail` until the app's
    close() has returned: END frees the slot for the next request, and the slot is not free while
    the app still runs code for this one.
    """

    __slots__ = ("sendall", "is_head", "head", "headers", "head_sent", "ended", "tail", "done")

    def __init__(self, sendall, is_head):
        self.sendall = sendall
        self.is_head = is_head
        self.head = None
        self.headers = None
        self.head_sent = False
        self.ended = False  # the response is whole (Content-Length reached); nothing more may follow
        self.tail = None
        self.done = False

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # break the frame <-> traceback cycle
        elif self.head is not None:
            raise RuntimeError("start_response() called a second time without exc_info")
        self.head = encode_head(status, headers)
        self.headers = headers
        return self.write

    def write(self, data):
        if self.done or self.tail is not None:
            # Kept past its response (a thread, a closure): its bytes would land in the next one.
            raise RuntimeError("write() called after the response was complete")
        if type(data) is not bytes:
            data = _as_bytes(data)
        if not data:
            return
        if self.is_head:
            if not self.head_sent:
                self.send(self.take_head())
            return
        frames = encode_body(data)
        if not self.head_sent:
            frames = self.take_head() + frames
        self.send(frames)

    def send(self, data):
        try:
            self.sendall(data)
        except OSError as e:
            raise PeerGone() from e

    def take_head(self):
        if self.head is None:
            raise RuntimeError("the app sent a body without calling start_response()")
        self.head_sent = True
        return self.head

    def finish(self):
        """Send what waited for close(); write() is dead from now on."""
        self.done = True
        tail, self.tail = self.tail, None
        if tail is not None:
            self.send(tail)

    def sequence(self, result):
        """A list or tuple: the whole response goes out in one sendall, after close()."""
        parts = [] if self.head_sent else [None]
        if not self.is_head:
            append = parts.append
            for chunk in result:
                if type(chunk) is not bytes:
                    chunk = _as_bytes(chunk)
                n = len(chunk)
                if n > MAX_PAYLOAD:
                    append(encode_body(chunk))
                elif n:
                    append(_pack_header(n, BODY, 0, 0))
                    append(chunk)
        if not self.head_sent:
            parts[0] = self.take_head()
        parts.append(END_OK_FRAME)
        self.tail = b"".join(parts)

    def stream(self, result, cancel_requested):
        """Any other iterable: each chunk goes out as soon as the app yields it (streaming, SSE).

        After each chunk, a CANCEL from the C# side (the client left) stops the iteration. The chunk
        that completes the Content-Length the app declared (Flask's usual one-chunk iterator) waits
        with END for close(): one syscall per response, and no poll. True when the app yielded more
        than its Content-Length (dropped: the caller logs it)."""
        send = self.send
        remaining = _content_length(self.headers) if self.headers is not None else -1
        for chunk in result:
            if type(chunk) is not bytes:
                chunk = _as_bytes(chunk)
            if not chunk:
                if self.head_sent and cancel_requested():
                    self.tail = END_CANCELLED_FRAME
                    return False
                continue
            if self.is_head:
                break  # the headers are final now, and a HEAD response has no body
            frames = encode_body(chunk)
            if not self.head_sent:
                frames = self.take_head() + frames
            if remaining >= 0:
                remaining -= len(chunk)
                if remaining == 0:
                    self.tail = frames + END_OK_FRAME
                    self.ended = True
                    return any(result)
            send(frames)
            if cancel_requested():
                self.tail = END_CANCELLED_FRAME
                return False
        self.tail = END_OK_FRAME if self.head_sent else self.take_head() + END_OK_FRAME
        return False


class Handler:
    """Serves the requests of one slot, one at a time."""

    def __init__(self, app, requests, reader, responses, multithread, errors):
        """`requests` is the socket `reader` reads REQUEST, CANCEL and FILE_OPENED from; responses
        go out on `responses` (the same socket in tests, its own connection in a worker)."""
        self.app = app
        self.sendall = responses.sendall
        self.reader = reader
        poller = select.poll()
        poller.register(requests, select.POLLIN)
        self.poll = poller.poll
        # wsgi.errors, where the bridge logs the app's failures too: as LOG records of the request.
        self.errors = ErrorStream(errors, self.sendall)
        self.base = base_environ(multithread, self.errors)

    def handle(self, payload):
        """Answer one REQUEST payload. Raises PeerGone or ProtocolError when the slot is unusable."""
        environ = self.base.copy()
        kind, body = decode_request(payload, environ)
        resp = Response(self.sendall, environ.get("REQUEST_METHOD") == "HEAD")
        errors = self.errors
        errors.begin()
        try:
            try:
                environ["wsgi.input"] = inp = open_input(kind, body)
            except OSError:
                self.fail(resp, environ)
            else:
                try:
                    self.run_app(environ, resp)
                finally:
                    inp.close()
            errors.end()
        except BaseException:
            errors.abandon()
            raise
        resp.finish()

    def run_app(self, environ, resp):
        try:
            result = self.app(environ, resp.start_response)
        except Exception:
            self.fail(resp, environ)
            return
        try:
            if type(result) is FileWrapper and self.send_file(resp, result):
                pass
            elif isinstance(result, (list, tuple)):
                resp.sequence(result)
            elif resp.stream(result, self.cancel_requested):
                self.errors.write(f"tapster: the app yielded more than its Content-Length in request "
                                  f"{environ.get('HTTP_X_REQUEST_ID', '-')}; the excess was dropped\n")
        except ProtocolError:
            raise
        except Exception:
            self.fail(resp, environ)
        finally:
            # PEP 3333: always, also after an error or when the peer went away mid-response.
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    self.log(environ, "exception in close() of the response")

    def send_file(self, resp, wrapper):
        """Send a regular file as FILE; False means it has to be iterated instead."""
        if resp.head_sent:
            return False  # write() already sent BODY frames; FILE must come right after START
        filelike = wrapper.filelike
        try:
            fd = filelike.fileno()
            st = os.fstat(fd)
            # procfs and sysfs files say size 0 whatever they hold: only reading them finds it.
            if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
                return False
        except (AttributeError, OSError, ValueError):
            return False
        try:
            offset = filelike.tell()
        except (AttributeError, OSError, ValueError):
            offset = 0
        if type(offset) is not int or offset < 0:
            return False  # a file object that cannot say where it is: iterate it
        file_frame = encode_file(fd, offset, _content_length(resp.headers))
        head = resp.take_head()
        if resp.is_head:
            resp.tail = head + END_OK_FRAME
            return True
        resp.send(head + file_frame)
        # Wait: the C# side opens /proc/<pid>/fd/<fd>, and close() may close the fd right after.
        # If it could not (ok = 0) it fails the request itself: END is all that is left either way.
        cancelled = False
        while True:
            ftype, _, payload = self.read_frame()
            if ftype == FILE_OPENED:
                decode_file_opened(payload)
                break
            if ftype != CANCEL:
                raise ProtocolError("bad_payload", f"expected FILE_OPENED, got {TYPE_NAMES[ftype]}")
            cancelled = True  # FILE_OPENED still comes
        resp.tail = END_CANCELLED_FRAME if cancelled else END_OK_FRAME
        return True

    def cancel_requested(self):
        """Has the C# side sent CANCEL? Never blocks when nothing has arrived."""
        if not self.reader.has_frame() and not self.poll(0):
            return False
        ftype = self.read_frame()[0]
        if ftype != CANCEL:
            raise ProtocolError("bad_payload", f"unexpected {TYPE_NAMES[ftype]} during a response")
        return True

    def read_frame(self):
        """A frame the C# side sent during a response; PeerGone at EOF."""
        try:
            frame = self.reader.read()
        except OSError as e:
            raise PeerGone() from e
        if frame is None:
            raise PeerGone()
        return frame

    def fail(self, resp, environ):
        """The app raised: log it; a 500 if nothing was sent yet, else END 1 (the client is aborted)."""
        self.log(environ, "unhandled exception")
        if resp.ended:
            return  # the response is whole and waits in the tail; only the log learns of this
        if resp.head_sent:
            resp.tail = END_FAILED_FRAME
        else:
            resp.head_sent = True
            resp.tail = ERROR_RESPONSE_HEAD if resp.is_head else ERROR_RESPONSE

    def log(self, environ, what):
        text = (f"tapster: {what} in request {environ.get('HTTP_X_REQUEST_ID', '-')} "
                f"{environ.get('REQUEST_METHOD', '-')} {environ.get('PATH_INFO', '')}\n{traceback.format_exc()}")
        try:
            self.errors.write(text)
            self.errors.flush()
        except (OSError, ValueError, AttributeError):
            # The app replaced or closed sys.stderr: the fd still reaches the log.
            os.write(2, text.encode("utf-8", "backslashreplace"))
