"""Decoy: dirapp has a wsgi.py, which must win over this app.py.

Routes:
  GET /  "WRONG: dirapp/app.py was chosen over wsgi.py"
"""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"WRONG: dirapp/app.py was chosen over wsgi.py"]
