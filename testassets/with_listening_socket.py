#!/usr/bin/python3
"""Starts a program as systemd's socket activation would: with a listening TCP socket on descriptor 3.

usage: with_listening_socket.py PROGRAM [ARGS...]
The socket listens on 127.0.0.1 at a port the system picks; its number is written to the file named by
$LISTENING_PORT_FILE before PROGRAM replaces this process. LISTEN_FDS and LISTEN_PID are set, as systemd does.
"""
import os
import socket
import sys

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(128)
with open(os.environ["LISTENING_PORT_FILE"], "w") as port_file:
    port_file.write(str(listener.getsockname()[1]))
if listener.fileno() == 3:
    os.set_inheritable(3, True)  # Python's sockets are close-on-exec
else:
    os.dup2(listener.fileno(), 3)  # the copy is inheritable
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())  # exec keeps the pid
os.execv(sys.argv[1], sys.argv[1:])
