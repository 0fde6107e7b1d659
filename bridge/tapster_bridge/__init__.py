"""Python side of Tapster: the zygote, its forked WSGI workers and the frame codec (docs/protocol.md)."""
