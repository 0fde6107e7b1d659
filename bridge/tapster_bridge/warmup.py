"""Work a preloading zygote does once so that its forked workers need not each do it again.

A worker writes to every page it touches for the first time after the fork, and each write un-shares
that page. Werkzeug compiles a Flask app's URL map into its matcher on the first request: done in
every worker, that costs about 1.4 MB of private memory each (measured with Flask 3.1); done here
before the fork, the compiled matcher is shared by all of them.

Only work without side effects belongs here: routing is matching strings against rules. No request is
run through the app, since a view or a before_request hook could open a database connection that the
forked workers would then share.
"""


def warm_up(app):
    """Compile the routing of a Flask (werkzeug) app; anything else is left alone. Never raises."""
    url_map = getattr(app, "url_map", None)
    bind = getattr(url_map, "bind", None)
    if bind is None:
        return
    try:
        bind("localhost").match("/")
    except Exception:
        pass  # NotFound, MethodNotAllowed, a redirect: the matcher is compiled all the same
