"""warm_up: a preloaded Flask app's router is compiled before the fork, and nothing else runs."""

import flask

from tapster_bridge.warmup import warm_up


def test_a_flask_apps_url_map_is_compiled_without_running_a_view_or_a_hook():
    app = flask.Flask("warm")
    calls = []
    app.before_request(lambda: calls.append("hook"))
    app.add_url_rule("/", "index", lambda: calls.append("view") or "ok")
    app.add_url_rule("/items/<int:n>", "item", lambda n: "item")
    assert app.url_map._remap  # werkzeug compiles the matcher lazily

    warm_up(app)

    assert not app.url_map._remap
    assert calls == []


def test_an_app_without_a_url_map_and_a_map_that_fails_are_left_alone():
    def plain_wsgi(environ, start_response):
        raise AssertionError("must not be called")

    class BrokenMap:
        def bind(self, name):
            raise RuntimeError("broken")

    class WithBrokenMap:
        url_map = BrokenMap()

    warm_up(plain_wsgi)
    warm_up(WithBrokenMap())
