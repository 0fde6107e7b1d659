"""Saves uploads into a folder beside the code: lost with the instance, not shared between instances."""

import os

from flask import Flask

app = Flask(__name__)
app.config["UPLOAD_FOLDER"] = os.path.join(app.root_path, "uploads")


@app.route("/healthz")
def health():
    return "ok"
