"""The facts `tapster check` gathers in Python, on the apps in testassets/check and on small inline apps."""

import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from tapster_bridge import audit

ASSETS = os.path.join(os.path.dirname(audit.__file__), "..", "..", "testassets", "check")
BRIDGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(audit.__file__)))
STRONG_KEY = "k3Vq9-xT2pLm7Rw4zYb8NcQ1sHd6FgJ0"  # 32 characters, no placeholder
_names = itertools.count()

pytest.importorskip("flask")


@pytest.fixture
def facts_of(tmp_path, monkeypatch):
    """Copies a testassets/check app (or writes inline source) to a temp dir and collects its facts."""
    imported = []

    def collect(asset=None, source=None, spec="", prepare=None):
        if asset is not None:
            module = os.path.splitext(asset)[0] if asset.endswith(".py") else "app"
            copy = shutil.copy if asset.endswith(".py") else shutil.copytree
            target = tmp_path / (asset if asset.endswith(".py") else "app_dir")
            copy(os.path.join(ASSETS, asset), target)
            app_dir = str(tmp_path if asset.endswith(".py") else target)
        else:
            module = f"tapster_audit_case_{next(_names)}"
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            app_dir = str(tmp_path)
        if prepare is not None:
            prepare(app_dir)
        monkeypatch.syspath_prepend(app_dir)
        monkeypatch.chdir(app_dir)
        imported.append(module)
        return audit.collect(module, spec, app_dir)

    yield collect
    for module in imported:
        sys.modules.pop(module, None)


def test_good_app_loads_with_a_strong_key_hardened_cookies_and_a_health_route(facts_of, monkeypatch):
    monkeypatch.setenv("GOOD_APP_SECRET_KEY", STRONG_KEY)
    facts = facts_of("good_app.py")
    assert facts["load"] == {"ok": True}
    assert facts["dev_server_calls"] == []
    flask = facts["flask"]
    assert flask["debug"] is False
    assert flask["secret_key"] == {"present": True, "type": "str", "length": 32, "placeholder": False,
                                   "distinct": len(set(STRONG_KEY))}
    assert flask["session_cookie"] == {"SECURE": True, "HTTPONLY": True, "SAMESITE": "Lax"}
    assert flask["uploads"] == {}
    assert {"path": "/health", "status": 200} in facts["health"]
    assert facts["migrations"] == {"state": "absent"}


def test_the_secret_key_itself_never_appears_in_the_facts(facts_of, monkeypatch):
    monkeypatch.setenv("GOOD_APP_SECRET_KEY", STRONG_KEY)
    assert STRONG_KEY not in json.dumps(facts_of("good_app.py"))


def test_debug_app_reports_debug_on_and_no_health_route(facts_of):
    facts = facts_of("debug_app.py")
    assert facts["flask"]["debug"] is True
    assert all(probe.get("status") == 404 for probe in facts["health"])


@pytest.mark.parametrize("name,value", [("FLASK_DEBUG", "1"), ("FLASK_ENV", "development")])
def test_the_debug_environment_variables_are_reported(facts_of, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert facts_of("good_app.py")["environment"][name] == value


def test_an_unguarded_app_run_is_recorded_with_its_line_and_the_import_goes_on(facts_of):
    facts = facts_of("devserver_app.py")
    assert facts["dev_server_calls"] == [{"call": "Flask.run", "file": "devserver_app.py", "line": 13}]
    assert facts["load"] == {"ok": True}
    assert {"path": "/health", "status": 200} in facts["health"]


def test_a_guarded_app_run_is_not_called(facts_of):
    assert facts_of("good_app.py")["dev_server_calls"] == []


def test_wsgiref_serve_forever_at_import_is_recorded_too(facts_of):
    facts = facts_of(source="""
        from wsgiref.simple_server import make_server
        def app(environ, start_response):
            start_response("200 OK", [])
            return [b"ok"]
        make_server("", 8000, app).serve_forever()
    """)
    assert [c["call"] for c in facts["dev_server_calls"]] == ["wsgiref.simple_server.make_server"]
    assert facts["load"] == {"ok": True}


def test_the_development_server_is_restored_after_the_audit(facts_of):
    import flask
    original = flask.Flask.run
    facts_of("devserver_app.py")
    assert flask.Flask.run is original


@pytest.mark.parametrize("key,placeholder", [
    ("change-me", True), ("CHANGEME", True), ("dev", True), ("secret", True), ("development", True),
    ("your-secret-key", True), ("super-secret", True), ("django-insecure-4f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c", True),
    ("please-change-me-in-production-0123456789", True), (STRONG_KEY, False),
])
def test_placeholder_keys_are_recognised(key, placeholder):
    assert audit.secret_key_facts(key)["placeholder"] is placeholder


def test_bytes_keys_report_their_length_in_bytes():
    assert audit.secret_key_facts(os.urandom(16)) | {"distinct": 0} == {
        "present": True, "type": "bytes", "length": 16, "placeholder": False, "distinct": 0}


@pytest.mark.parametrize("key", [None, "", b""])
def test_missing_keys_are_absent(key):
    assert audit.secret_key_facts(key) == {"present": False}


def test_weak_key_app_reports_a_short_placeholder(facts_of):
    key = facts_of("weak_key_app.py")["flask"]["secret_key"]
    assert key["placeholder"] is True and key["length"] == 9


def test_cookie_flags_as_configured(facts_of):
    assert facts_of("cookies_app.py")["flask"]["session_cookie"] == {"SECURE": False, "HTTPONLY": False, "SAMESITE": None}


def test_remember_cookie_flags_are_reported_when_flask_login_is_set_up(facts_of):
    facts = facts_of(source="""
        from flask import Flask
        app = Flask(__name__)
        app.login_manager = object()  # what LoginManager.init_app leaves behind
        app.config["REMEMBER_COOKIE_SECURE"] = True
    """)
    remember = facts["flask"]["remember_cookie"]
    assert remember["SECURE"] is True
    assert "remember_cookie" not in facts_of("good_app.py")["flask"]


def test_upload_folders_are_reported(facts_of, tmp_path):
    assert facts_of("uploads_app.py")["flask"]["uploads"] == {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def test_flask_uploads_destinations_are_reported(facts_of):
    facts = facts_of(source="""
        from flask import Flask
        app = Flask(__name__)
        app.config.update(UPLOADS_DEFAULT_DEST="/var/uploads", UPLOADED_PHOTOS_DEST="/var/photos")
    """)
    assert facts["flask"]["uploads"] == {"UPLOADS_DEFAULT_DEST": "/var/uploads", "UPLOADED_PHOTOS_DEST": "/var/photos"}


def test_an_import_failure_is_one_line_and_skips_the_app_facts(facts_of):
    facts = facts_of("broken_app.py")
    assert facts["load"]["ok"] is False
    assert "RuntimeError: database URL is not configured" in facts["load"]["message"]
    assert "flask" not in facts and "health" not in facts


def test_a_module_without_a_wsgi_callable_is_a_spec_failure(facts_of):
    facts = facts_of(source="x = 1\n")
    assert facts["load"]["ok"] is False and facts["load"]["kind"] == "spec"


def test_health_probe_reports_exceptions_instead_of_raising(facts_of):
    facts = facts_of(source="""
        def app(environ, start_response):
            raise RuntimeError("boom")
    """)
    assert facts["health"][0] == {"path": "/health", "error": "RuntimeError: boom"}


def test_a_plain_wsgi_app_has_no_flask_facts_but_is_probed(facts_of):
    facts = facts_of(source="""
        def app(environ, start_response):
            start_response("200 OK" if environ["PATH_INFO"] == "/ping" else "404 Not Found", [])
            return [b""]
    """)
    assert "flask" not in facts
    assert {"path": "/ping", "status": 200} in facts["health"]


def audit_in_subprocess(app_dir, module, spec="", **env):
    """Runs the audit as `tapster check` does, in a fresh interpreter; -> the finished process."""
    env = dict(os.environ, TAPSTER_BRIDGE=BRIDGE_DIR, TAPSTER_APP_DIR=str(app_dir), TAPSTER_APP_MODULE=module,
               TAPSTER_APP_CALLABLE=spec, **env)
    bootstrap = "import sys,os;sys.path.append(os.environ.pop('TAPSTER_BRIDGE'));from tapster_bridge.audit import main;main()"
    return subprocess.run([sys.executable, "-c", bootstrap], cwd=app_dir, env=env, capture_output=True, text=True,
                          timeout=60)


def test_app_output_goes_to_stderr_and_stdout_holds_one_json_document(tmp_path):
    (tmp_path / "noisy.py").write_text("print('hello from import')\ndef app(e, s):\n    s('200 OK', [])\n    return [b'']\n")
    done = audit_in_subprocess(tmp_path, "noisy")
    assert done.returncode == 0, done.stderr
    assert "hello from import" in done.stderr
    assert json.loads(done.stdout)["load"] == {"ok": True}


class TestDjango:
    """testassets/check/django_site, in a fresh interpreter each time: Django's settings are process-wide."""

    @pytest.fixture(autouse=True)
    def site(self, tmp_path):
        pytest.importorskip("django")
        site = tmp_path / "site"
        shutil.copytree(os.path.join(ASSETS, "django_site"), site)
        return site

    def facts(self, site, **env):
        done = audit_in_subprocess(site, "site_config.wsgi", "application", **env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def test_settings_are_reported_without_the_secret_key_itself(self, site):
        facts = self.facts(site, DJANGO_SECRET_KEY=STRONG_KEY)
        django = facts["django"]
        assert "flask" not in facts
        assert django["debug"] is False
        assert django["secret_key"]["placeholder"] is False
        assert STRONG_KEY not in json.dumps(facts)
        assert django["session_cookie"] == {"SECURE": True, "HTTPONLY": True, "SAMESITE": "Lax"}
        assert django["allowed_hosts"] == ["example.com"]
        assert django["uploads"] == {}

    def test_startprojects_insecure_key_debug_and_a_wildcard_host_are_reported(self, site):
        django = self.facts(site, DJANGO_DEBUG="1", DJANGO_ALLOWED_HOSTS="*,")["django"]
        assert django["debug"] is True
        assert django["secret_key"]["placeholder"] is True
        assert django["allowed_hosts"] == ["*"]

    def test_the_health_probe_uses_a_host_django_allows(self, site):
        # With DEBUG off, Django answers 400 to a Host outside ALLOWED_HOSTS ("localhost" here).
        assert {"path": "/health", "status": 200} in self.facts(site)["health"]

    def test_a_media_root_on_the_local_disk_is_an_upload_folder(self, site):
        assert self.facts(site, DJANGO_MEDIA_ROOT="/srv/media")["django"]["uploads"] == {"MEDIA_ROOT": "/srv/media"}

    def test_a_database_that_does_not_exist_has_every_migration_pending_and_is_not_created(self, site):
        assert self.facts(site)["migrations"] == {"state": "checked", "framework": "django",
                                                  "pending": ["notes.0001_initial"]}
        assert not (site / "db.sqlite3").exists()

    def test_a_migrated_database_has_nothing_pending(self, site):
        migrate = subprocess.run([sys.executable, "manage.py", "migrate"], cwd=site, capture_output=True, text=True,
                                 timeout=60)
        assert migrate.returncode == 0, migrate.stderr
        assert self.facts(site)["migrations"]["pending"] == []


class TestMigrations:
    @pytest.fixture(autouse=True)
    def _needs_alembic(self):
        pytest.importorskip("alembic")
        pytest.importorskip("flask_migrate")

    def test_a_database_that_does_not_exist_has_every_migration_pending_and_is_not_created(self, facts_of, tmp_path):
        facts = facts_of("migrations_app")
        assert facts["migrations"] == {"state": "checked", "directory": "migrations", "heads": ["3f2a9c1d7b10"],
                                       "current": []}
        assert not (tmp_path / "app_dir" / "items.db").exists()

    def test_a_database_at_head_is_current(self, facts_of):
        def migrate_to_head(app_dir):
            with sqlite3.connect(os.path.join(app_dir, "items.db")) as db:
                db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
                db.execute("INSERT INTO alembic_version VALUES ('3f2a9c1d7b10')")

        facts = facts_of("migrations_app", prepare=migrate_to_head)
        assert facts["migrations"]["current"] == ["3f2a9c1d7b10"]

    def test_plain_alembic_reads_the_url_from_alembic_ini(self, tmp_path, monkeypatch):
        shutil.copytree(os.path.join(ASSETS, "migrations_app", "migrations", "versions"), tmp_path / "alembic" / "versions")
        (tmp_path / "alembic" / "env.py").write_text("")
        (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = alembic\nsqlalchemy.url = sqlite:///db.sqlite\n")
        monkeypatch.chdir(tmp_path)
        facts = audit.migration_facts(str(tmp_path), None)
        assert facts == {"state": "checked", "directory": "alembic", "heads": ["3f2a9c1d7b10"], "current": []}


def test_migrations_without_alembic_installed_say_why(tmp_path, monkeypatch):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "env.py").write_text("")
    monkeypatch.setitem(sys.modules, "alembic", None)  # makes `import alembic...` raise ImportError
    monkeypatch.setitem(sys.modules, "alembic.config", None)
    facts = audit.migration_facts(str(tmp_path), None)
    assert facts["state"] == "unchecked"
    assert "alembic is not installed" in facts["reason"]


def test_request_errors_are_logged_only_through_a_handler_that_lets_them_through(monkeypatch):
    import io
    import logging

    from tapster_bridge.audit import request_errors_logged

    class AdminEmailHandler(logging.Handler):  # Django's, by name: mail is not a log
        def emit(self, record):
            pass

    class RequireDebugTrue(logging.Filter):
        def filter(self, record):
            return False  # DEBUG is off

    logger = logging.getLogger("django.request")
    monkeypatch.setattr(logger, "handlers", [AdminEmailHandler()])
    monkeypatch.setattr(logger, "propagate", False)
    assert not request_errors_logged()

    console = logging.StreamHandler(io.StringIO())
    console.addFilter(RequireDebugTrue())
    monkeypatch.setattr(logger, "handlers", [AdminEmailHandler(), console])
    assert not request_errors_logged()

    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logging.getLogger(), "handlers", [logging.StreamHandler(io.StringIO())])
    assert request_errors_logged()  # the root logger's handler takes it
