"""Cannot be imported: the error must be reported as a FAIL, with its one-line message."""

raise RuntimeError("database URL is not configured")
