"""Pure-stdlib WSGI app (no Flask), importable by any Python 3: used to test --python.

`plain_wsgi:app` (also `plain_wsgi:application`).
Routes:
  GET /        sys.executable of the interpreter running the app (text/plain)
  GET /version sys.version
  anything else 404
"""
import sys


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/":
        body = sys.executable.encode()
    elif path == "/version":
        body = sys.version.encode()
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = app
