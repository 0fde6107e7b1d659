"""Plain WSGI app that holds 40 MiB of its own from the moment it is imported (a big model, a cache
warmed at import): with --no-preload each worker holds it privately before serving any request.

`big_import:app`: every path answers str(os.getpid()).
"""
import os

_LOADED = b"\x01" * (40 * 1024 * 1024)  # written, so resident


def app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
