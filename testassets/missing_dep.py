"""Imports a module that does not exist: the server must report the ModuleNotFoundError and exit.

Routes: none (the module never finishes importing).
"""
import notarealmodule_tapster  # noqa: F401

app = None
