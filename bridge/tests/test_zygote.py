"""The zygote as a real subprocess against a test-owned listening socket (the C# side's role)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap

import pytest

from tapster_bridge import protocol as p
from conftest import BRIDGE_DIR, TIMEOUT, request_pairs

TOKEN = bytes(range(100, 116))
ZYGOTE_CMD = ("import sys,os;sys.path.append(os.environ.pop('TAPSTER_BRIDGE'));"
              "from tapster_bridge.zygote import main;main()")

FLASK_APP = '''
import os, sys
from flask import Flask, request

app = Flask(__name__)

@app.route("/", methods=["GET", "POST"])
def index():
    print("worker says hi", request.path)
    leaked = sorted(k for k in os.environ if k.startswith("TAPSTER"))
    return {"leaked": leaked, "path0": sys.path[0], "body": request.get_data().decode(),
            "pid": os.getpid(), "multithread": request.environ["wsgi.multithread"]}
'''


class Server:
    """Listens like the C# side and speaks its half of the handshake."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tps")  # short: sun_path is limited to 108 bytes
        self.path = os.path.join(self.dir, "s")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        self.listener.settimeout(TIMEOUT)
        self.proc = None
        self.response_connections = []
        self.output_connections = []

    def start(self, app_dir, module, callable_="", preload="1", threads="1"):
        env = dict(os.environ, TAPSTER_BRIDGE=BRIDGE_DIR, TAPSTER_SOCKET=self.path, TAPSTER_TOKEN=TOKEN.hex(),
                   TAPSTER_APP_DIR=str(app_dir), TAPSTER_APP_MODULE=module, TAPSTER_APP_CALLABLE=callable_,
                   TAPSTER_PRELOAD=preload, TAPSTER_THREADS=threads, TAPSTER_SOMETHING_ELSE="x")
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE_CMD], cwd=app_dir, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def accept(self, role, worker_id=0, slot=0):
        conn, _ = self.listener.accept()
        conn.settimeout(TIMEOUT)
        reader = p.FrameReader(conn)
        ftype, _, payload = reader.read()
        assert ftype == p.HELLO
        hello = p.decode_hello(payload)
        version, got_role, got_id, pid, got_slot, token = hello
        assert (version, got_role, got_id, got_slot, token) == (p.VERSION, role, worker_id, slot, TOKEN)
        # SO_PEERCRED, as the C# side checks it.
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        assert int.from_bytes(creds[:4], "little") == pid
        conn.sendall(p.encode_welcome())
        return conn, reader, hello

    def accept_worker(self, worker_id):
        """A new worker's stdout and stderr connections, then its control connection.

        -> (control socket, its reader, HELLO, [stdout socket, stderr socket])."""
        outputs = [self.accept(role, worker_id=worker_id)[0] for role in (p.ROLE_STDOUT, p.ROLE_STDERR)]
        self.output_connections += outputs
        control, reader, hello = self.accept(p.ROLE_CONTROL, worker_id=worker_id)
        return control, reader, hello, outputs

    def accept_slot(self, worker_id, slot=0):
        """A slot's request connection, then its response connection, as the C# side pairs them.

        -> (the socket requests are sent on, the reader of the responses)."""
        requests, _, _ = self.accept(p.ROLE_SLOT, worker_id=worker_id, slot=slot)
        responses, reader, _ = self.accept(p.ROLE_SLOT_RESPONSES, worker_id=worker_id, slot=slot)
        self.response_connections.append(responses)
        return requests, reader

    def next_frame(self, reader):
        frame = reader.read()
        assert frame is not None, self.output()
        return p.TYPE_NAMES[frame[0]], frame[2]

    def output(self):
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stdout.read().decode() + self.proc.stderr.read().decode()

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()
        for conn in self.response_connections + self.output_connections:
            conn.close()
        self.listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def write_app(tmp_path, source, name="webapp"):
    app_dir = tmp_path / "app"
    app_dir.mkdir(exist_ok=True)
    (app_dir / f"{name}.py").write_text(textwrap.dedent(source))
    return app_dir


def read_line(conn):
    """One line from a worker's stdout or stderr connection, with a timeout."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        assert chunk, f"the output connection closed, got {data!r}"
        data += chunk
    return data.decode()


def start_zygote(server, app_dir, **kw):
    server.start(app_dir, **kw)
    zconn, zreader, hello = server.accept(p.ROLE_ZYGOTE)
    assert hello[3] == server.proc.pid
    return zconn, zreader


@pytest.mark.parametrize("preload,stop", [("1", "close"), ("0", "signals-then-close")])
def test_zygote_serves_a_request(server, tmp_path, preload, stop):
    app_dir = write_app(tmp_path, FLASK_APP)
    zconn, zreader = start_zygote(server, app_dir, module="webapp", preload=preload, threads="2")
    assert server.next_frame(zreader) == ("READY", b"")

    zconn.sendall(p.encode_fork(7))
    control, _, hello, _ = server.accept_worker(7)
    worker_pid = hello[3]
    slots = [server.accept_slot(7, i) for i in range(2)]
    name, payload = server.next_frame(zreader)
    assert (name, p.decode_forked(payload)) == ("FORKED", (7, worker_pid))

    slot, sreader = slots[1]
    body = b"ping"
    slot.sendall(p.encode_request(p.BODY_INLINE, request_pairs("POST", "/", content_length=4,
                                                               content_type="text/plain"), body))
    # What the request printed comes first, as one of its records, on the slot's own connection.
    name, payload = server.next_frame(sreader)
    assert (name, p.decode_log(payload)) == ("LOG", "worker says hi /")
    name, payload = server.next_frame(sreader)
    status, headers = p.decode_start(payload)
    assert status == "200 OK"
    name, payload = server.next_frame(sreader)
    answer = json.loads(bytes(payload))
    assert server.next_frame(sreader) == ("END", b"\0")
    assert answer == {"leaked": [], "path0": str(app_dir), "body": "ping", "pid": worker_pid, "multithread": True}
    # A CANCEL that crossed the END (the client left as the response completed) is ignored.
    slot.sendall(p.CANCEL_FRAME + p.encode_request(p.BODY_NONE, request_pairs("GET", "/")))
    assert [server.next_frame(sreader)[0] for _ in range(4)] == ["LOG", "START", "BODY", "END"]

    if stop != "close":
        # Group-wide SIGTERM/SIGINT (Ctrl-C, systemd) are Tapster's to act on: the worker serves on.
        os.kill(worker_pid, signal.SIGTERM)
        os.kill(worker_pid, signal.SIGINT)
        slot.sendall(p.encode_request(p.BODY_NONE, request_pairs("GET", "/")))
        assert [server.next_frame(sreader)[0] for _ in range(4)] == ["LOG", "START", "BODY", "END"]
    control.close()
    name, payload = server.next_frame(zreader)
    assert (name, p.decode_exited(payload)) == ("EXITED", (worker_pid, 0))

    # EOF on the zygote connection: it stops its children and exits.
    zconn.sendall(p.encode_fork(8))
    server.accept_worker(8)
    assert server.next_frame(zreader)[0] == "FORKED"
    zconn.close()
    assert server.proc.wait(TIMEOUT) == 0
    for conn, _ in slots:
        conn.close()


def test_worker_stack_dump_on_sigusr1(server, tmp_path):
    app_dir = write_app(tmp_path, "def app(environ, start_response):\n    return []\n")
    zconn, zreader = start_zygote(server, app_dir, module="webapp")
    assert server.next_frame(zreader)[0] == "READY"
    zconn.sendall(p.encode_fork(1))
    control, _, hello, pipes = server.accept_worker(1)
    slot, _ = server.accept_slot(1)
    os.kill(hello[3], signal.SIGUSR1)
    assert "(most recent call first)" in read_line(pipes[1])
    control.close()
    slot.close()
    assert server.next_frame(zreader)[0] == "FORKED"
    assert server.next_frame(zreader)[0] == "EXITED"


SLOW_APP = """
import time

def app(environ, start_response):
    time.sleep(0.2)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"finished"]
"""


def fork_worker(server, zconn, zreader, worker_id):
    zconn.sendall(p.encode_fork(worker_id))
    control, _, hello, _ = server.accept_worker(worker_id)
    slot, sreader = server.accept_slot(worker_id)
    name, payload = server.next_frame(zreader)
    assert (name, p.decode_forked(payload)) == ("FORKED", (worker_id, hello[3]))
    return control, slot, sreader, hello[3]


def test_in_flight_request_finishes_after_control_eof(server, tmp_path):
    app_dir = write_app(tmp_path, SLOW_APP)
    zconn, zreader = start_zygote(server, app_dir, module="webapp")
    assert server.next_frame(zreader)[0] == "READY"
    control, slot, sreader, pid = fork_worker(server, zconn, zreader, 1)
    slot.sendall(p.encode_request(p.BODY_NONE, request_pairs()))
    control.close()
    assert [server.next_frame(sreader)[0] for _ in range(3)] == ["START", "BODY", "END"]
    name, payload = server.next_frame(zreader)
    assert (name, p.decode_exited(payload)) == ("EXITED", (pid, 0))
    slot.close()


def test_protocol_error_on_a_slot_exits_with_2(server, tmp_path):
    app_dir = write_app(tmp_path, SLOW_APP)
    zconn, zreader = start_zygote(server, app_dir, module="webapp")
    assert server.next_frame(zreader)[0] == "READY"
    control, slot, _, pid = fork_worker(server, zconn, zreader, 1)
    slot.sendall(p.HEADER.pack(0, 0x7F, 0, 0))
    name, payload = server.next_frame(zreader)
    assert (name, p.decode_exited(payload)) == ("EXITED", (pid, 2))
    control.close()
    slot.close()


def boot_error(server, zreader):
    name, payload = server.next_frame(zreader)
    assert name == "BOOT_ERROR"
    return p.decode_boot_error(payload)


@pytest.mark.parametrize("source,module,callable_,kind,message", [
    ("import surely_not_installed_dep\napp = None\n", "webapp", "", "missing",
     f"No module named 'surely_not_installed_dep' (python: {sys.executable})"),
    ("app = None\nraise RuntimeError('bad config')\n", "webapp", "", "import",
     "RuntimeError: bad config (importing 'webapp')"),
    ("def app(e, s):\n    return []\n", "webapp", "ap", "spec", "module 'webapp' has no attribute 'ap' (tried: ap)"),
    ("def app(e, s):\n    return []\n", "nosuchmodule", "", "spec", "there is no module 'nosuchmodule' in "),
    ("x = 1\n", "webapp", "", "spec", "module 'webapp' has no WSGI app (tried: app, application, create_app())"),
])
def test_boot_errors(server, tmp_path, source, module, callable_, kind, message):
    app_dir = write_app(tmp_path, source)
    _, zreader = start_zygote(server, app_dir, module=module, callable_=callable_)
    got_kind, python, got_message, tb = boot_error(server, zreader)
    assert (got_kind, python) == (kind, sys.executable)
    assert got_message.startswith(message)
    assert "\n" not in got_message
    if kind != "spec":
        assert tb.startswith("Traceback")
    assert server.proc.wait(TIMEOUT) == 3


def test_boot_error_in_worker_without_preload(server, tmp_path):
    app_dir = write_app(tmp_path, "raise ImportError('nope')\n")
    zconn, zreader = start_zygote(server, app_dir, module="webapp", preload="0")
    assert server.next_frame(zreader)[0] == "READY"
    zconn.sendall(p.encode_fork(2))
    control, creader, hello, _ = server.accept_worker(2)
    assert boot_error(server, creader)[:3] == ["import", sys.executable, "ImportError: nope (importing 'webapp')"]
    assert server.next_frame(zreader)[0] == "FORKED"
    name, payload = server.next_frame(zreader)
    assert (name, p.decode_exited(payload)) == ("EXITED", (hello[3], 3))
    control.close()
    zconn.close()
    assert server.proc.wait(TIMEOUT) == 0


def test_wrong_token_is_refused(server, tmp_path):
    app_dir = write_app(tmp_path, "def app(e, s):\n    return []\n")
    server.start(app_dir, module="webapp")
    conn, _ = server.listener.accept()
    conn.close()  # what the C# side does with a bad HELLO
    assert server.proc.wait(TIMEOUT) != 0


def test_stop_signals_are_left_to_tapster_and_eof_stops_everything(server, tmp_path):
    app_dir = write_app(tmp_path, SLOW_APP)
    zconn, zreader = start_zygote(server, app_dir, module="webapp")
    assert server.next_frame(zreader)[0] == "READY"
    control, slot, _, pid = fork_worker(server, zconn, zreader, 1)
    server.proc.send_signal(signal.SIGTERM)
    server.proc.send_signal(signal.SIGINT)
    control2, slot2, _, pid2 = fork_worker(server, zconn, zreader, 2)  # still forking
    zconn.close()
    assert server.proc.wait(TIMEOUT) == 0
    for sock in (control, slot, control2, slot2):
        assert sock.recv(1) == b""  # the workers are gone too
        sock.close()