"""Starts Flask's development server when imported: no __main__ guard."""

from flask import Flask

app = Flask(__name__)


@app.route("/health")
def health():
    return "ok"


app.run(port=5999)
