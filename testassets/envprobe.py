"""Environment probe for Tapster's configuration tests: `envprobe:app` (plain WSGI).

  GET /?k=NAME&k=OTHER   JSON object: each NAME to os.environ.get(NAME) (null when unset)
  GET /?print=NAME       also prints "NAME=<value>" to stdout (an app leaking a secret into the log)
"""
import json
import os
from urllib.parse import parse_qs


def app(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    names = query.get("k", [])
    for name in query.get("print", []):
        print(f"{name}={os.environ.get(name)}", flush=True)
    body = json.dumps({name: os.environ.get(name) for name in names}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
