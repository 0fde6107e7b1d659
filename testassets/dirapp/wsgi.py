"""Directory app: `tapster serve testassets/dirapp` must pick this wsgi.py (before app.py) and
its `application`, a plain WSGI callable (no Flask). It imports a sibling module, so the
directory must be on sys.path.

Routes:
  GET /  "dirapp wsgi.py application"
"""
from greeting import TEXT


def application(environ, start_response):
    body = TEXT.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
