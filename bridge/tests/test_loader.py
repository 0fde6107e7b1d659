"""Resolving TAPSTER_APP_MODULE / TAPSTER_APP_CALLABLE in-process."""

import itertools
import os
import sys
import textwrap

import pytest

from tapster_bridge.loader import LoadError, load

_names = itertools.count()


@pytest.fixture
def make_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    created = []

    def make(source, package=None):
        name = f"tapster_loader_case_{next(_names)}"
        if package:
            pkg = tmp_path / name
            pkg.mkdir()
            (pkg / "__init__.py").write_text("")
            (pkg / f"{package}.py").write_text(textwrap.dedent(source))
            name = f"{name}.{package}"
        else:
            (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(name)
        return name

    yield make
    for name in created:
        for mod in [m for m in sys.modules if m == name.split(".")[0] or m.startswith(name.split(".")[0] + ".")]:
            del sys.modules[mod]




@pytest.mark.parametrize("source,spec,expected", [
    ("def app(e, s): return 'app'\ndef application(e, s): return 'application'\n", "", "app"),
    ("def application(e, s): return 'application'\n", "", "application"),
    ("def create_app():\n    return lambda e, s: 'factory'\n", "", "factory"),
    ("def create_app():\n    return lambda e, s: 'factory'\n", "create_app()", "factory"),
    ("def serve(e, s): return 'serve'\n", "serve", "serve"),
    ("def create_app(env, debug=True):\n    return lambda e, s: (env, debug)\n", "create_app('prod', debug=False)", ("prod", False)),
])
def test_resolves(make_module, source, spec, expected, tmp_path):
    app = load(make_module(source), spec, str(tmp_path))
    assert app(None, None) == expected


def test_an_unguarded_app_run_at_import_returns_at_once_instead_of_serving(make_module, tmp_path):
    source = ("import flask\napp = flask.Flask(__name__)\n"
              "import os\nSEEN = os.environ.get('FLASK_RUN_FROM_CLI')\napp.run(port=1)\n")
    name = make_module(source)
    app = load(name, "", str(tmp_path))
    assert app.name == name and sys.modules[name].SEEN == "true"
    assert "FLASK_RUN_FROM_CLI" not in os.environ  # the app's own environment, afterwards, is untouched


def test_dotted_module(make_module, tmp_path):
    name = make_module("def app(e, s): return 'pkg'\n", package="wsgi")
    assert load(name, "app", str(tmp_path))(None, None) == "pkg"


@pytest.mark.parametrize("source,spec,kind,message", [
    ("app = 3\n", "", "spec", "'{m}.app' is not callable (it is int)"),
    ("def make(): return 3\n", "make()", "spec", "{m}.make() returned a non-callable int"),
    ("def make(x): return x\n", "make(open('x'))", "spec", "'make(open('x'))' must be a name, or a call of one with literal arguments"),
    ("def make(x): return x\n", "make(**{'a': 1})", "spec", "must be a name, or a call of one with literal arguments"),
    ("def make(x): return x\n", "a.b", "spec", "'a.b' must be a name"),
    ("def make(): raise ValueError('no db')\n", "make()", "import", "{m}.make() raised ValueError: no db"),
    ("import sys\nsys.exit(2)\n", "", "import", "SystemExit: 2"),
    ("def app(\n", "", "import", "SyntaxError"),
])
def test_spec_and_import_errors(make_module, tmp_path, source, spec, kind, message):
    name = make_module(source)
    with pytest.raises(LoadError) as e:
        load(name, spec, str(tmp_path))
    assert e.value.kind == kind
    assert message.format(m=name) in e.value.message
    assert "\n" not in e.value.message


def test_missing_module_inside_the_app_package_is_not_a_wrong_interpreter(make_module, tmp_path):
    name = make_module("from . import helpers\n", package="wsgi")
    with pytest.raises(LoadError) as e:
        load(name, "", str(tmp_path))
    assert e.value.kind == "import"
    package = name.split(".")[0]
    with pytest.raises(LoadError) as e:
        load(package + ".nope", "", str(tmp_path))
    assert (e.value.kind, e.value.tb) == ("spec", "")
    assert e.value.message == f"there is no module '{package}.nope' in {tmp_path} or on the Python path"
