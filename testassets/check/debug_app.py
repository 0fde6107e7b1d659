"""Fails the debug check (DEBUG on in the config) and has no health endpoint."""

from flask import Flask

app = Flask(__name__)
app.config["DEBUG"] = True


@app.route("/")
def index():
    return "debug"
