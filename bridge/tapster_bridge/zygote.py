"""The zygote: imports the app once, then forks workers on demand (FORK) and reports their exits.

Started by the C# side as
    python -c "import sys,os;sys.path.append(os.environ.pop('TAPSTER_BRIDGE'));from tapster_bridge.zygote import main;main()"
with the app directory as working directory and the TAPSTER_* variables described in main().
"""

import faulthandler
import gc
import os
import selectors
import signal
import sys
import time

from . import loader, trim, warmup, worker
from .protocol import (
    FORK, READY_FRAME, ROLE_ZYGOTE, TYPE_NAMES, ProtocolError, decode_fork, encode_boot_error, encode_exited,
    encode_forked,
)

# After EOF on our connection, how long children get to exit after SIGTERM before we go anyway.
SHUTDOWN_GRACE = 2.0


class Config:
    """The TAPSTER_* variables, popped from os.environ so the app never sees them."""

    def __init__(self, environ):
        self.socket = environ.pop("TAPSTER_SOCKET")
        self.token = bytes.fromhex(environ.pop("TAPSTER_TOKEN"))
        if len(self.token) != 16:
            raise ValueError("TAPSTER_TOKEN must be 32 hex digits")
        self.app_dir = environ.pop("TAPSTER_APP_DIR")
        self.module = environ.pop("TAPSTER_APP_MODULE")
        self.callable = environ.pop("TAPSTER_APP_CALLABLE", "")
        self.preload = environ.pop("TAPSTER_PRELOAD", "1") != "0"
        self.threads = int(environ.pop("TAPSTER_THREADS", "1"))
        if self.threads < 1:
            raise ValueError("TAPSTER_THREADS must be >= 1")
        # Anything else with our prefix is the server's business, not the app's.
        for key in [k for k in environ if k.startswith("TAPSTER_")]:
            del environ[key]

    def load_app(self):
        return loader.load(self.module, self.callable, self.app_dir)


def _noop(signum, frame):
    """Python-level handler so the signal reaches the wakeup fd; the selector loop does the work."""


class Zygote:
    def __init__(self, config, sock, reader, app):
        self.config = config
        self.sock = sock
        self.reader = reader
        self.app = app
        self.children = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    def run(self):
        # SIGCHLD only writes its number to the wakeup pipe; the loop reaps.
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, _noop)
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        sel.register(self.wake_r, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in sel.select():
                    if key.fd == self.wake_r:
                        os.read(self.wake_r, 512)
                        self.reap()
                    elif not self.read_frames(sel):
                        return
        except (BrokenPipeError, ConnectionResetError):
            pass  # the C# side is gone: same as EOF
        finally:
            self.shutdown()

    def read_frames(self, sel):
        """Handle every frame that has arrived; False at EOF."""
        while True:
            frame = self.reader.read()
            if frame is None:
                return False
            ftype, _, payload = frame
            if ftype != FORK:
                raise ProtocolError("bad_payload", f"zygote got unexpected {TYPE_NAMES[ftype]}")
            self.fork(decode_fork(payload), sel)
            if not self.reader.has_frame():
                return True

    def fork(self, worker_id, sel):
        # Unflushed output would otherwise be written twice, once by each process.
        worker.flush_standard_streams()
        pid = os.fork()
        if pid == 0:
            try:
                self.become_worker(worker_id, sel)
            finally:
                os._exit(1)  # worker.run never returns; this only guards the zygote's loop
        self.children.add(pid)
        self.sock.sendall(encode_forked(worker_id, pid))

    def become_worker(self, worker_id, sel):
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sel.close()
        self.sock.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
        c = self.config
        worker.run(c.socket, c.token, worker_id, c.threads, self.app, c.load_app if self.app is None else None)

    def reap(self):
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            # waitstatus_to_exitcode gives the exit code, or minus the signal number.
            self.sock.sendall(encode_exited(pid, os.waitstatus_to_exitcode(status)))

    def shutdown(self):
        """Our connection is gone, so is Tapster's control of the workers: each sees its own control
        connection close and exits after its request; whoever overstays the grace is killed."""
        deadline = time.monotonic() + SHUTDOWN_GRACE
        while self.children and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid:
                self.children.discard(pid)
            else:
                time.sleep(0.01)
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def main():
    worker.ignore_stop_signals()
    # An import that hangs (a database that never answers, a lock) is stopped after workers.boot_timeout;
    # SIGUSR1 first makes us print where it hangs. Forked workers inherit this until they re-register.
    faulthandler.register(signal.SIGUSR1, file=2, all_threads=True)
    config = Config(os.environ)
    # -c put '' (the working directory) first; the app directory takes its place.
    if sys.path and sys.path[0] == "":
        sys.path[0] = config.app_dir
    else:
        sys.path.insert(0, config.app_dir)
    sock, reader = worker.connect(config.socket, ROLE_ZYGOTE, 0, 0, config.token)
    app = None
    if config.preload:
        try:
            app = config.load_app()
        except loader.LoadError as e:
            sock.sendall(encode_boot_error(*e.boot_error_strings()))
            sys.exit(worker.EXIT_BOOT_ERROR)
    if app is not None:
        warmup.warm_up(app)
    worker.ignore_stop_signals()  # again: the app may have installed handlers of its own
    # Move everything imported so far out of the collector's reach: collections in the workers
    # would otherwise write to these objects' pages and un-share them.
    gc.collect()
    gc.freeze()
    trim.drop_startup_pages()
    try:
        sock.sendall(READY_FRAME)
    except (BrokenPipeError, ConnectionResetError):
        sys.exit(0)  # Tapster stopped while the app loaded (a stop signal): nothing to report
    Zygote(config, sock, reader, app).run()
