"""Pages, the order form and the small JSON API."""
import re
import sqlite3

from flask import (Blueprint, abort, flash, jsonify, redirect, render_template,
                   request, url_for)

from .db import get_db

bp = Blueprint("shop", __name__)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def price(cents):
    return f"{cents / 100:.2f}"


bp.add_app_template_filter(price, "price")


def all_products():
    return get_db().execute("SELECT * FROM product ORDER BY id").fetchall()


@bp.get("/")
def index():
    return render_template("index.html", products=all_products())


@bp.get("/product/<int:product_id>")
def product(product_id):
    row = get_db().execute("SELECT * FROM product WHERE id = ?", (product_id,)).fetchone()
    if row is None:
        abort(404)
    return render_template("product.html", product=row)


def validate(form, product_ids):
    """Return (clean values, errors) for the order form."""
    errors, values = {}, {}
    try:
        values["product_id"] = int(form.get("product_id", ""))
        if values["product_id"] not in product_ids:
            raise ValueError
    except ValueError:
        errors["product_id"] = "Choose a product."
    try:
        values["quantity"] = int(form.get("quantity", ""))
        if not 1 <= values["quantity"] <= 99:
            raise ValueError
    except ValueError:
        errors["quantity"] = "Quantity must be a whole number from 1 to 99."
    values["email"] = form.get("email", "").strip()
    if not EMAIL_RE.match(values["email"]) or len(values["email"]) > 254:
        errors["email"] = "Enter a valid email address."
    return values, errors


@bp.route("/orders/new", methods=["GET", "POST"])
def new_order():
    products = all_products()
    if request.method == "POST":
        values, errors = validate(request.form, {p["id"] for p in products})
        if not errors:
            db = get_db()
            with db:
                cur = db.execute(
                    "INSERT INTO orders (product_id, quantity, email) VALUES (?, ?, ?)",
                    (values["product_id"], values["quantity"], values["email"]))
            flash("Thank you, your order was placed.")
            # Redirect-after-POST: reloading the result page does not order twice.
            return redirect(url_for("shop.order", order_id=cur.lastrowid), code=303)
        return render_template("order_form.html", products=products, form=request.form,
                               errors=errors), 400
    selected = request.args.get("product", "")
    return render_template("order_form.html", products=products,
                           form={"product_id": selected, "quantity": "1"}, errors={})


@bp.get("/orders/<int:order_id>")
def order(order_id):
    row = get_db().execute(
        "SELECT orders.*, product.name, product.price_cents FROM orders "
        "JOIN product ON product.id = orders.product_id WHERE orders.id = ?",
        (order_id,)).fetchone()
    if row is None:
        abort(404)
    return render_template("order.html", order=row)


@bp.get("/api/products")
def api_products():
    return jsonify([{"id": p["id"], "name": p["name"], "price": p["price_cents"] / 100,
                     "url": url_for("shop.product", product_id=p["id"], _external=True)}
                    for p in all_products()])


@bp.get("/health")
def health():
    # For load balancers: 200 only if the database answers a query.
    try:
        get_db().execute("SELECT 1 FROM product LIMIT 1").fetchall()
    except sqlite3.Error:
        return jsonify(status="error", detail="database unavailable"), 503
    return jsonify(status="ok")
