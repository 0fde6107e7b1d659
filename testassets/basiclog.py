"""A Flask app that logs the usual way: logging.basicConfig() at import, so that its handler holds the
stream object sys.stderr was when the (preloaded) app was imported.

  GET  /            "ok"
  GET  /fail?q=X    logs LookupError("missing-X") with its traceback (logger.exception), returns "handled"
"""
import logging

from flask import Flask, request

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("basiclog")
app = Flask(__name__)


@app.get("/")
def index():
    return "ok"


@app.get("/fail")
def fail():
    q = request.args.get("q", "")
    try:
        raise LookupError(f"missing-{q}")
    except LookupError:
        log.exception("lookup failed %s", q)
    return "handled"
