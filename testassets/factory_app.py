"""App factory for `factory_app:create_app()` (and `factory_app:create_app('name')`).

Routes:
  GET /        "hello from factory" (or "hello from <name>")
  GET /health  {"status": "ok"}
"""
from flask import Flask


def create_app(name="factory"):
    app = Flask(__name__)

    @app.get("/")
    def index():
        return f"hello from {name}"

    @app.get("/health")
    def health():
        return {"status": "ok"}

    return app
