"""Directory app without wsgi.py: `tapster serve testassets/dirapp_appfile` must find this app.py
and call its `create_app()` factory (there is no `app` or `application` here).

Routes:
  GET /        "dirapp_appfile create_app"
  GET /health  {"status": "ok"}
"""
from flask import Flask


def create_app():
    app = Flask(__name__)

    @app.get("/")
    def index():
        return "dirapp_appfile create_app"

    @app.get("/health")
    def health():
        return {"status": "ok"}

    return app
