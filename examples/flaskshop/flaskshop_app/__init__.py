"""Flaskshop: a small shop built with an application factory."""
import os
import secrets
import sys

from flask import Flask


def create_app(test_config=None):
    # instance_relative_config: the instance folder is examples/flaskshop/instance/
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        # The session cookie stays out of cross-site requests; set SHOP_HTTPS=1 behind TLS so it
        # is also never sent over plain HTTP.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("SHOP_HTTPS") == "1",
        DATABASE=os.environ.get("SHOP_DB") or os.path.join(app.instance_path, "shop.sqlite3"),
    )
    if test_config:
        app.config.update(test_config)

    if not app.config["SECRET_KEY"]:
        # Never ship a placeholder: a random key keeps sessions safe, but they do not
        # survive a restart, and with --no-preload every worker process has its own key.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        print("flaskshop: WARNING: SECRET_KEY is not set; using a random key for this run",
              file=sys.stderr, flush=True)

    from . import db, views
    db.init_app(app)
    app.register_blueprint(views.bp)
    return app
