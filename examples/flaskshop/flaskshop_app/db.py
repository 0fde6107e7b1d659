"""SQLite access: one connection per request, schema and seed data created on first start."""
import os
import sqlite3

from flask import current_app, g

SCHEMA = """
CREATE TABLE IF NOT EXISTS product (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES product(id),
    quantity INTEGER NOT NULL,
    email TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""

SEED = [
    ("Espresso beans, 1 kg", 2490, "Dark roast, chocolate and hazelnut notes."),
    ("Pour-over kettle", 3900, "Gooseneck kettle for a steady, slow pour."),
    ("Ceramic dripper", 1850, "Single-cup dripper, fits #2 filters."),
    ("Paper filters (100)", 450, "Unbleached paper filters, size #2."),
    ("Hand grinder", 6500, "Steel conical burrs, 40 click settings."),
]


def connect(path):
    # timeout: several workers may touch the database at the same moment
    con = sqlite3.connect(path, timeout=10)
    con.row_factory = sqlite3.Row
    return con


def get_db():
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exc=None):
    con = g.pop("db", None)
    if con is not None:
        con.close()


def init_db(path):
    """Create the schema and seed products once; safe if several processes race."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    con = connect(path)
    try:
        con.executescript(SCHEMA)
        with con:  # one write transaction: check and seed atomically
            con.execute("BEGIN IMMEDIATE")
            if con.execute("SELECT COUNT(*) FROM product").fetchone()[0] == 0:
                con.executemany(
                    "INSERT INTO product (name, price_cents, description) VALUES (?, ?, ?)", SEED)
    finally:
        con.close()


def init_app(app):
    init_db(app.config["DATABASE"])
    app.teardown_appcontext(close_db)
