"""A Flask app whose own static route serves the directory Tapster mounts as --static: the usual setup,
where Flask's route is the fallback that must never see a request the static site refused."""
import os

from flask import Flask

app = Flask(__name__, static_folder=os.environ["STATIC_ROOT"], static_url_path="/static")


@app.get("/")
def index():
    return "ok"
