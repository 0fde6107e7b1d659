"""Fails at import with RuntimeError("boom-testasset-import"): the server must report it and exit.

Routes: none (the module never finishes importing).
"""
raise RuntimeError("boom-testasset-import")
