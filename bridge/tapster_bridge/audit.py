"""Facts about an app for `tapster check`: imports it the way the zygote does and prints ONE JSON document.

Started by the C# side as
    python -c "import sys,os;sys.path.append(os.environ.pop('TAPSTER_BRIDGE'));from tapster_bridge.audit import main;main()"
with the app directory as working directory and TAPSTER_APP_DIR, TAPSTER_APP_MODULE, TAPSTER_APP_CALLABLE.

Only facts leave this process, never judgements and never a secret: the C# side grades them. Of the
SECRET_KEY it learns the type, the length and whether it is a known placeholder, not one character.
Beyond importing the app, the only things run are GET requests to the health paths and, when the app
uses Alembic, a read of the database's current revision.
"""

import io
import json
import os
import sys
import traceback

from . import loader, wsgi

HEALTH_PATHS = ("/health", "/healthz", "/-/health", "/ping")

# Compared after lower-casing and dropping everything but letters and digits ("Change-Me!" = "changeme").
PLACEHOLDER_KEYS = frozenset({
    "changeme", "change", "changethis", "changeit", "replaceme", "dev", "devkey", "development",
    "developmentkey", "secret", "secretkey", "yoursecretkey", "mysecretkey", "mysecret", "supersecret",
    "supersecretkey", "topsecret", "default", "defaultkey", "test", "testing", "testkey", "password",
    "key", "flask", "notasecret", "insecure", "xxx", "todo", "fixme", "abc123", "123456",
})
# A key containing one of these was written to be replaced (Django's "django-insecure-..." included).
PLACEHOLDER_MARKERS = ("changeme", "changethis", "replaceme", "insecure", "notsecret", "yoursecret")

COOKIE_KEYS = ("SECURE", "HTTPONLY", "SAMESITE")
UPLOAD_KEYS = ("UPLOAD_FOLDER", "UPLOADS_DEFAULT_DEST")


class DevServerCalls:
    """Records calls to the development server made while the app is imported, and serves nothing.

    The call returns a server that does nothing, so the import goes on and the app can still be audited.
    """

    def __init__(self, app_dir):
        self.app_dir = os.path.realpath(app_dir)
        self.calls = []
        self._replaced = []

    def __enter__(self):
        """Replace Flask.run, werkzeug's run_simple and wsgiref's make_server, where installed."""
        for module, owner, name in (("flask", "Flask", "run"), ("werkzeug.serving", None, "run_simple"),
                                    ("wsgiref.simple_server", None, "make_server")):
            try:
                target = __import__(module, fromlist=["_"])
            except ImportError:
                continue
            if owner is not None:
                target = getattr(target, owner)
            self._replaced.append((target, name, getattr(target, name)))
            setattr(target, name, self._recorder(f"{owner or module}.{name}"))
        return self

    def __exit__(self, *exc):
        for target, name, original in self._replaced:
            setattr(target, name, original)

    def _recorder(self, call):
        def record(*args, **kwargs):
            self.calls.append(dict(call=call, **self._caller()))
            return _NoServer()
        return record

    def _caller(self):
        """The innermost frame in the app's directory: where the app started the server."""
        for frame in reversed(traceback.extract_stack()[:-2]):
            path = os.path.realpath(frame.filename)
            if path.startswith(self.app_dir + os.sep):
                return {"file": os.path.relpath(path, self.app_dir), "line": frame.lineno}
        return {"file": None, "line": None}


class _NoServer:
    """Stands in for make_server()'s server: serve_forever() and friends return at once."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def secret_key_facts(key):
    """What can be said about a key without revealing it."""
    if key is None or key == "" or key == b"":
        return {"present": False}
    facts = {"present": True, "type": type(key).__name__}
    if isinstance(key, (str, bytes)):
        facts["length"] = len(key)
        text = key if isinstance(key, str) else key.decode("latin-1")
        folded = "".join(c for c in text.lower() if c.isalnum())
        facts["placeholder"] = folded in PLACEHOLDER_KEYS or any(m in folded for m in PLACEHOLDER_MARKERS)
        facts["distinct"] = len(set(text))
    return facts


def cookie_facts(config, prefix, defaults):
    return {name: config.get(f"{prefix}_COOKIE_{name}", defaults.get(name)) for name in COOKIE_KEYS}


def remember_cookie_defaults():
    """Flask-Login's own defaults for REMEMBER_COOKIE_*, which differ between its versions."""
    try:
        from flask_login import config as login_config
    except ImportError:
        return {"SECURE": False, "HTTPONLY": True, "SAMESITE": None}
    return {name: getattr(login_config, f"COOKIE_{name}", None) for name in COOKIE_KEYS}


def flask_facts(app):
    config = app.config
    facts = {
        "debug": bool(app.debug),
        "secret_key": secret_key_facts(config.get("SECRET_KEY")),
        "session_cookie": cookie_facts(config, "SESSION", {}),
        "uploads": {key: str(config[key]) for key in UPLOAD_KEYS if config.get(key)},
    }
    facts["uploads"].update({key: str(value) for key, value in config.items()
                             if key.startswith("UPLOADED_") and key.endswith("_DEST") and value})
    if hasattr(app, "login_manager"):
        facts["remember_cookie"] = cookie_facts(config, "REMEMBER", remember_cookie_defaults())
    return facts


def django_settings():
    """Django's settings when the app configured them on import (every Django wsgi.py does), else None."""
    conf = sys.modules.get("django.conf")
    if conf is None or not conf.settings.configured:
        return None
    return conf.settings


def django_facts(settings):
    facts = {
        "debug": bool(settings.DEBUG),
        "secret_key": secret_key_facts(getattr(settings, "SECRET_KEY", None)),
        "session_cookie": {name: getattr(settings, f"SESSION_COOKIE_{name}", None) for name in COOKIE_KEYS},
        "allowed_hosts": [str(host) for host in settings.ALLOWED_HOSTS if host],
        "uploads": {},
        "request_errors_logged": request_errors_logged(),
    }
    from django.core.files.storage import FileSystemStorage, default_storage
    # MEDIA_ROOT matters only where uploads land on this machine's disk: not with S3 and friends.
    # (default_storage is lazy; isinstance sees the configured class through it.)
    if settings.MEDIA_ROOT and isinstance(default_storage, FileSystemStorage):
        facts["uploads"]["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    return facts


def request_errors_logged():
    """Would Django's log of an exception in a request (logger django.request, level ERROR) reach a handler
    that writes it somewhere Tapster sees? Django's default LOGGING has two: a console handler only while
    DEBUG is on, and mail to ADMINS. The handlers' own filters (RequireDebugTrue...) decide, as they would."""
    import logging
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 0, "Internal Server Error: /", None, None)
    logger = logging.getLogger("django.request")
    if not logger.isEnabledFor(logging.ERROR):
        return False
    while logger is not None:
        for handler in logger.handlers:
            if record.levelno >= handler.level and type(handler).__name__ != "AdminEmailHandler" and handler.filter(record):
                return True
        logger = logger.parent if logger.propagate else None
    return False


def django_migration_facts(settings):
    """Django's unapplied migrations for the default database; a SQLite file that does not exist yet has none
    applied (and is not created)."""
    database = settings.DATABASES.get("default") if settings.DATABASES else None
    if not database or not database.get("ENGINE") or database["ENGINE"].endswith(".dummy"):
        return {"state": "absent", "framework": "django"}
    facts = {"state": "unchecked", "framework": "django"}
    try:
        import django
        from django.apps import apps
        from django.db import connections
        from django.db.migrations.executor import MigrationExecutor
        from django.db.migrations.loader import MigrationLoader

        if not apps.ready:
            django.setup()
        graph = MigrationLoader(None, ignore_no_migrations=True).graph
        leaves = graph.leaf_nodes()
        if not leaves:
            return {"state": "absent", "framework": "django"}
        name = str(database.get("NAME") or "")
        if database["ENGINE"].endswith("sqlite3") and name not in ("", ":memory:") and not os.path.exists(name):
            pending = [node for leaf in leaves for node in graph.forwards_plan(leaf)]
        else:
            connection = connections["default"]
            try:
                executor = MigrationExecutor(connection)
                pending = [(migration.app_label, migration.name)
                           for migration, backwards in executor.migration_plan(leaves) if not backwards]
            finally:
                connection.close()
        facts["pending"] = list(dict.fromkeys(f"{app}.{migration}" for app, migration in pending))
    except Exception as e:
        facts["reason"] = one_line(e)
        return facts
    facts["state"] = "checked"
    return facts


def find_flask_app(app):
    """The Flask object behind the WSGI callable, seeing through wrappers that keep it as .app or .wsgi_app."""
    seen = set()
    while app is not None and id(app) not in seen:
        seen.add(id(app))
        if all(hasattr(app, a) for a in ("config", "debug", "url_map")):
            return app
        app = getattr(app, "app", None) or getattr(getattr(app, "wsgi_app", None), "__self__", None)
    return None


def probe(app, path, host="localhost"):
    """GET path with a minimal environ; the status code, or the exception's one-line description."""
    environ = wsgi.base_environ(False, sys.stderr)
    environ.update({
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": host, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": host, "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
    })
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    try:
        body = app(environ, start_response)
        try:
            for _ in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()
    except Exception as e:
        return {"path": path, "error": one_line(e)}
    if not statuses:
        return {"path": path, "error": "the app never called start_response"}
    return {"path": path, "status": int(statuses[-1][:3])}


def migration_facts(app_dir, flask_app):
    """Alembic's heads against the database's current revision, when the app has migrations."""
    directory, ini = find_migrations(app_dir)
    if directory is None:
        return {"state": "absent"}
    facts = {"state": "unchecked", "directory": os.path.relpath(directory, app_dir)}
    try:
        from alembic.config import Config
        from alembic.script import ScriptDirectory
    except ImportError:
        facts["reason"] = f"alembic is not installed for {sys.executable}"
        return facts
    try:
        config = Config(ini) if ini else Config()
        if not config.get_main_option("script_location"):
            config.set_main_option("script_location", directory)
        facts["heads"] = sorted(ScriptDirectory.from_config(config).get_heads())
        url = database_url(config, flask_app)
        if url is None:
            facts["reason"] = "no database URL (sqlalchemy.url in alembic.ini, or Flask-SQLAlchemy's engine)"
            return facts
        facts["current"] = current_revisions(url)
    except Exception as e:
        facts["reason"] = one_line(e)
        return facts
    facts["state"] = "checked"
    return facts


def find_migrations(app_dir):
    """Flask-Migrate's migrations/ (env.py beside alembic.ini), or a plain alembic.ini in the app directory."""
    flask_migrate = os.path.join(app_dir, "migrations")
    if os.path.isfile(os.path.join(flask_migrate, "env.py")):
        ini = os.path.join(flask_migrate, "alembic.ini")
        return flask_migrate, ini if os.path.isfile(ini) else None
    ini = os.path.join(app_dir, "alembic.ini")
    if os.path.isfile(ini):
        from configparser import ConfigParser
        parser = ConfigParser()
        parser.read(ini)
        location = parser.get("alembic", "script_location", fallback="alembic")
        return os.path.join(app_dir, location.replace("%(here)s", app_dir)), ini
    return None, None


def database_url(config, flask_app):
    migrate = getattr(flask_app, "extensions", {}).get("migrate") if flask_app is not None else None
    if migrate is not None:
        with flask_app.app_context():
            return migrate.db.engine.url
    return config.get_main_option("sqlalchemy.url") or None


def current_revisions(url):
    """The database's revisions; a SQLite file that does not exist yet has none (and is not created)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not os.path.exists(url.database):
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def one_line(e):
    return " ".join(f"{type(e).__name__}: {e}".split())


def collect(module, spec, app_dir):
    """Every fact, as a dict ready for json.dumps."""
    facts = {"python": sys.executable, "python_version": sys.version.split()[0]}
    with DevServerCalls(app_dir) as dev_server:
        try:
            app = loader.load(module, spec, app_dir)
        except loader.LoadError as e:
            facts["load"] = {"ok": False, "kind": e.kind, "message": e.message}
            app = None
        else:
            facts["load"] = {"ok": True}
    facts["dev_server_calls"] = dev_server.calls
    facts["environment"] = {name: os.environ.get(name) for name in ("FLASK_DEBUG", "FLASK_ENV")}
    flask_app = find_flask_app(app) if app is not None else None
    settings = django_settings() if app is not None else None
    if flask_app is not None:
        facts["flask"] = flask_facts(flask_app)
    if settings is not None:
        facts["django"] = django_facts(settings)
    if app is not None:
        host = probe_host(settings)
        facts["health"] = [probe(app, path, host) for path in HEALTH_PATHS]
    facts["migrations"] = django_migration_facts(settings) if settings is not None else migration_facts(app_dir, flask_app)
    return facts


def probe_host(settings):
    """A Host the app accepts: Django answers 400 to any name outside ALLOWED_HOSTS."""
    if settings is not None and not settings.DEBUG:
        for host in settings.ALLOWED_HOSTS:
            if host and host != "*" and not host.startswith("."):
                return host
    return "localhost"


def main():
    module = os.environ.pop("TAPSTER_APP_MODULE")
    spec = os.environ.pop("TAPSTER_APP_CALLABLE", "")
    app_dir = os.environ.pop("TAPSTER_APP_DIR")
    # As under the zygote: the app never sees Tapster's own variables.
    for key in [k for k in os.environ if k.startswith("TAPSTER_")]:
        del os.environ[key]
    # What the app prints while it is imported or probed goes to stderr: stdout carries the document only.
    document = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    facts = collect(module, spec, app_dir)
    document.write(json.dumps(facts, default=str))
    document.write("\n")
    document.flush()
    # The app may have started threads or registered atexit hooks that would keep us alive.
    os._exit(0)
