"""Helper imported by dirapp/wsgi.py from the app's own directory."""
TEXT = "dirapp wsgi.py application"
