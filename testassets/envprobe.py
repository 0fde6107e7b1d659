"""Environment probe for Tapster's configuration tests: `envprobe:app` (plain WSGI).

  GET /?k=NAME&k=OTHER   JSON object: each NAME to os.environ.get(NAME) (null when unset)
"""
import json
import os
from urllib.parse import parse_qs


def app(environ, start_response):
    names = parse_qs(environ.get("QUERY_STRING", "")).get("k", [])
    body = json.dumps({name: os.environ.get(name) for name in names}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
