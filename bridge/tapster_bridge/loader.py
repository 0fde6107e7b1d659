"""Resolve TAPSTER_APP_MODULE / TAPSTER_APP_CALLABLE into the WSGI callable, classifying failures."""

import ast
import importlib
import os
import sys
import traceback

# Tried in this order when TAPSTER_APP_CALLABLE is empty; the last one is a factory.
AUTO_NAMES = ("app", "application")
AUTO_FACTORY = "create_app"

# Set by Flask's own CLI: app.run() then returns at once (with Flask's notice) instead of serving.
_FLASK_CLI = "FLASK_RUN_FROM_CLI"


class LoadError(Exception):
    """kind is the BOOT_ERROR kind: import, missing or spec; message is one line; tb the traceback."""

    def __init__(self, kind, message, tb=""):
        super().__init__(message)
        self.kind = kind
        self.message = " ".join(message.split("\n"))
        self.tb = tb

    def boot_error_strings(self):
        return self.kind, sys.executable, self.message, self.tb


def _own_modules(module):
    """The app module and its parent packages: 'a.b.c' -> {'a', 'a.b', 'a.b.c'}."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def import_app_module(module, app_dir):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        tb = traceback.format_exc()
        if e.name is None or e.name in _own_modules(module):
            # The APP spec names a module that is not there: a wrong spec, said in one line (the
            # traceback would only show the bridge's own import call).
            raise LoadError("spec", f"there is no module '{e.name or module}' in {app_dir} or on the Python path") from None
        # A module inside the app's own top-level package is the app's bug, not a wrong interpreter.
        if e.name.split(".")[0] == module.split(".")[0]:
            raise LoadError("import", f"{e} (importing '{module}')", tb) from None
        raise LoadError("missing", f"{e} (python: {sys.executable})", tb) from None
    except BaseException as e:  # SystemExit at import time is a failed import too
        raise LoadError("import", f"{type(e).__name__}: {e} (importing '{module}')", traceback.format_exc()) from None


def resolve(mod, spec):
    """Find the callable named by TAPSTER_APP_CALLABLE ('name', 'factory()' or '' to auto-detect)."""
    name = mod.__name__
    if not spec:
        for attr in AUTO_NAMES:
            app = getattr(mod, attr, None)
            if app is not None:
                return _check_callable(name, attr, app)
        factory = getattr(mod, AUTO_FACTORY, None)
        if callable(factory):
            return _call_factory(name, AUTO_FACTORY, factory)
        tried = ", ".join(AUTO_NAMES + (AUTO_FACTORY + "()",))
        raise LoadError("spec", f"module '{name}' has no WSGI app (tried: {tried})")
    attr, arguments = _parse_callable(spec)
    if not hasattr(mod, attr):
        raise LoadError("spec", f"module '{name}' has no attribute '{attr}' (tried: {attr})")
    obj = getattr(mod, attr)
    if arguments is not None:
        if not callable(obj):
            raise LoadError("spec", f"'{name}.{attr}' is not callable (it is {type(obj).__name__})")
        return _call_factory(name, attr, obj, *arguments)
    return _check_callable(name, attr, obj)


def _parse_callable(spec):
    """'app' -> ('app', None); 'create_app("prod", debug=False)' -> ('create_app', (["prod"], {"debug": False})).

    Arguments are Python literals only, as Gunicorn takes them: never code that runs.
    """
    usage = (f"'{spec}' must be a name, or a call of one with literal arguments "
             "(app, create_app(), create_app('production'))")
    try:
        node = ast.parse(spec.strip(), mode="eval").body
    except SyntaxError:
        raise LoadError("spec", usage) from None
    if isinstance(node, ast.Name):
        return node.id, None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise LoadError("spec", usage)
    try:
        args = [ast.literal_eval(arg) for arg in node.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg is not None}
    except ValueError:
        raise LoadError("spec", usage) from None
    if len(kwargs) != len(node.keywords):
        raise LoadError("spec", usage)  # **mapping
    return node.func.id, (args, kwargs)


def _check_callable(name, attr, app):
    if not callable(app):
        raise LoadError("spec", f"'{name}.{attr}' is not callable (it is {type(app).__name__})")
    return app


def _call_factory(name, attr, factory, args=(), kwargs=None):
    try:
        app = factory(*args, **(kwargs or {}))
    except Exception as e:
        raise LoadError("import", f"{name}.{attr}() raised {type(e).__name__}: {e}", traceback.format_exc()) from None
    if not callable(app):
        raise LoadError("spec", f"{name}.{attr}() returned a non-callable {type(app).__name__}")
    return app


def load(module, spec, app_dir):
    """Import the app module and return its WSGI callable; raises LoadError.

    An unguarded app.run() at the bottom of a Flask app would start Flask's development server
    inside the zygote and serve there until the boot timeout; Flask's CLI guard makes it return.
    """
    previous = os.environ.get(_FLASK_CLI)
    os.environ[_FLASK_CLI] = "true"
    try:
        return resolve(import_app_module(module, app_dir), spec)
    finally:
        if previous is None:
            os.environ.pop(_FLASK_CLI, None)
        else:
            os.environ[_FLASK_CLI] = previous
