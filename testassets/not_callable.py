"""`not_callable:app` is the integer 42: the server must refuse it as not a WSGI callable.

Routes: none.
"""
app = 42
