"""A SECRET_KEY copied from a tutorial, and session cookies left at Flask's defaults (no Secure, no SameSite)."""

from flask import Flask

app = Flask(__name__)
app.config["SECRET_KEY"] = "change-me"


@app.route("/health")
def health():
    return "ok"
