"""An app whose import ends the process outright (as a C extension crash or a stray os._exit would)."""
import os

os._exit(7)

app = None
