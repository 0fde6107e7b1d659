"""WSGI entry point: `tapster serve examples/flaskshop` finds this file and serves `app`."""
from flaskshop_app import create_app

app = create_app()
