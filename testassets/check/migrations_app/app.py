"""A Flask-SQLAlchemy app with Flask-Migrate migrations (migrations/ as `flask db init` makes it).

The database is items.db beside this file; until `flask db upgrade` creates it, one migration is pending.
"""

import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.root_path, "items.db")
db = SQLAlchemy(app)
migrate = Migrate(app, db)


class Item(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


@app.route("/health")
def health():
    return "ok"
