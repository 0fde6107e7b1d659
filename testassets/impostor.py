"""A preloaded app whose worker tries to pose as a sibling that is still starting: `impostor:app`.

Every Python process of an app holds the worker socket's token, so a worker (or a child it forked)
can send a valid HELLO naming another worker. The zygote makes every worker after the first pause
for 3 s before it connects, so a new sibling stays "starting" long enough to be claimed.

  GET /claim?worker=N&role=R   a forked child connects as worker N's R connection (control or
                        stdout); returns "admitted" if Tapster kept it open for a second, else "refused"
  GET /                 "ok"
"""

import gc
import os
import select
import time

from urllib.parse import parse_qs

from tapster_bridge.protocol import ROLE_CONTROL, ROLE_STDOUT
from tapster_bridge.worker import Worker, connect

_ZYGOTE = os.getpid()
_forked = 0


def _count_fork():
    global _forked
    if os.getpid() == _ZYGOTE:
        _forked += 1


def _pause_later_workers():
    if os.getppid() == _ZYGOTE and _forked >= 1:
        time.sleep(3)


os.register_at_fork(after_in_parent=_count_fork, after_in_child=_pause_later_workers)


def _this_worker():
    return next(o for o in gc.get_objects() if isinstance(o, Worker))


def _claim(worker_id, role):
    me = _this_worker()
    child = os.fork()
    if child == 0:
        try:
            sock, _ = connect(me.path, role, worker_id, 0, me.token)
            # Tapster answers WELCOME before it judges the claim: a refused claim is closed soon after.
            readable, _, _ = select.select([sock], [], [], 1.0)
            os._exit(1 if readable else 0)
        except OSError:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    return "admitted" if os.waitstatus_to_exitcode(status) == 0 else "refused"


def app(environ, start_response):
    if environ["PATH_INFO"] == "/claim":
        query = parse_qs(environ["QUERY_STRING"])
        role = {"control": ROLE_CONTROL, "stdout": ROLE_STDOUT}[query["role"][0]]
        body = _claim(int(query["worker"][0]), role).encode()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
