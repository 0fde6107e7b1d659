"""Hangs at import, as an app whose import waits on a database that never answers.

With HANG_IMPORT_AFTER_FIRST set to a path, the first import to create that file goes on and every
later one hangs (a worker that cannot come up after the server did); without it, every import hangs.

Routes: / -> "imported"
"""
import os
import time


def _first_import():
    marker = os.environ.get("HANG_IMPORT_AFTER_FIRST")
    if not marker:
        return False
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


if not _first_import():
    while True:
        time.sleep(1)  # the line the stack dump must point at


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"imported"]
