"""A WSGI app that does what apps should not, each route one mistake (MisbehavingAppTests).

At import it also sets a default socket timeout, installs its own SIGTERM handler and replaces
sys.stdout with an object that cannot flush: none of that may break the worker around it.
"""

import os
import signal
import socket
import sys
import time

socket.setdefaulttimeout(0.5)
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))


class WriteOnly:
    """A logging shim of the kind apps install: write() and nothing else."""

    def write(self, text):
        return len(text)


sys.stdout = WriteOnly()

STATE_DIR = os.environ.get("PROBE_STATE_DIR", "/tmp")
TEXT = [("Content-Type", "text/plain")]
kept_writers = []


def text(start_response, body, status="200 OK", headers=()):
    start_response(status, TEXT + list(headers))
    return [body.encode()]


class SlowClose:
    """A response whose close() (Flask's teardown, a DB session) takes a while and then leaves a mark."""

    def __iter__(self):
        yield b"closed later\n"

    def close(self):
        time.sleep(0.3)
        with open(os.path.join(STATE_DIR, "closed"), "w") as f:
            f.write("yes")


def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = environ.get("QUERY_STRING", "")
    if path == "/pid":
        return text(start_response, str(os.getpid()))
    if path == "/echo":
        return text(start_response, f"response for {query}")
    if path == "/sleep":
        time.sleep(float(query or "1"))
        return text(start_response, "slept")
    if path == "/fork-return":
        child = os.fork() == 0  # and both processes return a response
        return text(start_response, "child" if child else "parent")
    if path == "/keep-writer":
        kept_writers.append(start_response("200 OK", TEXT))
        return [b"kept\n"]
    if path == "/use-kept-writer":
        try:
            kept_writers[-1](b"INJECTED")
            outcome = "written"
        except Exception as e:
            outcome = type(e).__name__
        return text(start_response, outcome)
    if path == "/ctl-header":
        return text(start_response, "bad header", headers=[("X-Note", "a\x01b")])
    if path == "/slow-close":
        start_response("200 OK", TEXT)
        return SlowClose()
    if path == "/close-errors":
        environ["wsgi.errors"].close()
        return text(start_response, "closed wsgi.errors")
    if path == "/boom":
        raise RuntimeError("boom after wsgi.errors was closed")
    if path == "/interim":
        return text(start_response, "not a final response", status="103 Early Hints")
    if path == "/two-lengths":
        start_response("200 OK", TEXT + [("Content-Length", "5"), ("Content-Length", "6")])
        return [b"12345"]
    if path == "/huge-head":
        return text(start_response, "too much head", headers=[("X-Big", "a" * 3_000_000)])
    if path == "/seek-past-end":
        f = open(__file__, "rb")
        f.seek(1_000_000)
        start_response("200 OK", TEXT)
        return environ["wsgi.file_wrapper"](f)
    return text(start_response, "not found", status="404 Not Found")
