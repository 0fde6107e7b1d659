"""Passes every app check of `tapster check`: key from the environment, hardened cookies, /health."""

import os

from flask import Flask

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ.get("GOOD_APP_SECRET_KEY"),
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
)


@app.route("/")
def index():
    return "good"


@app.route("/health")
def health():
    return {"status": "ok"}


if __name__ == "__main__":
    app.run()
