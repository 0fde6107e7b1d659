"""Session cookies readable by scripts (HttpOnly off), sent over HTTP, with no SameSite."""

import os

from flask import Flask

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ.get("GOOD_APP_SECRET_KEY"),
    SESSION_COOKIE_HTTPONLY=False,
    SESSION_COOKIE_SECURE=False,
    SESSION_COOKIE_SAMESITE=None,
)


@app.route("/health")
def health():
    return "ok"
