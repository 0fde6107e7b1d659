"""Flaskshop tests with Flask's test client; each test gets its own database in tmp_path."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from flaskshop_app import create_app  # noqa: E402


@pytest.fixture
def app(tmp_path):
    return create_app({"TESTING": True, "DATABASE": str(tmp_path / "shop.sqlite3"),
                       "SECRET_KEY": "test-only"})


@pytest.fixture
def client(app):
    return app.test_client()


def test_product_list_and_static_assets(client):
    page = client.get("/")
    assert page.status_code == 200
    assert b"Espresso beans" in page.data and b"style.css" in page.data
    for name in ("style.css", "shop.js", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200


def test_product_page(client):
    assert b"Pour-over kettle" in client.get("/product/2").data
    assert client.get("/product/999").status_code == 404


def test_order_redirect_after_post(client):
    resp = client.post("/orders/new", data={"product_id": "1", "quantity": "2",
                                            "email": "a@example.com"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/orders/1")
    page = client.get(resp.headers["Location"])
    assert b"your order was placed" in page.data and b"49.80" in page.data


@pytest.mark.parametrize("form, field", [
    ({"product_id": "42", "quantity": "1", "email": "a@example.com"}, b"Choose a product"),
    ({"product_id": "1", "quantity": "0", "email": "a@example.com"}, b"Quantity must be"),
    ({"product_id": "1", "quantity": "x", "email": "a@example.com"}, b"Quantity must be"),
    ({"product_id": "1", "quantity": "1", "email": "nope"}, b"valid email"),
])
def test_order_validation(client, form, field):
    resp = client.post("/orders/new", data=form)
    assert resp.status_code == 400 and field in resp.data


def test_api_products(client):
    data = client.get("/api/products").get_json()
    assert len(data) == 5 and data[0]["name"] == "Espresso beans, 1 kg" and data[0]["price"] == 24.9


def test_health(app, client, tmp_path):
    resp = client.get("/health")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    app.config["DATABASE"] = str(tmp_path / "missing-dir" / "x.sqlite3")
    assert client.get("/health").status_code == 503


def test_seed_runs_once(tmp_path):
    db = str(tmp_path / "shop.sqlite3")
    create_app({"DATABASE": db, "SECRET_KEY": "x"})
    app = create_app({"DATABASE": db, "SECRET_KEY": "x"})
    assert len(app.test_client().get("/api/products").get_json()) == 5


def test_random_secret_key_when_unset(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SHOP_DB", str(tmp_path / "env.sqlite3"))
    a, b = create_app(), create_app()
    assert a.config["SECRET_KEY"] and a.config["SECRET_KEY"] != b.config["SECRET_KEY"]
    assert "SECRET_KEY is not set" in capsys.readouterr().err
    assert os.path.exists(tmp_path / "env.sqlite3")
