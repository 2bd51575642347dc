"""tcp-to-unix.py SOCKET PORT_FILE: listens on 127.0.0.1 (a free port, written to PORT_FILE) and
carries each connection to the Unix socket SOCKET, both ways, until either side closes. The Wine
tier's pipe agent (wslsim-pipe-agent.exe) reaches a real Linux ssh-agent through it: Wine gives a
Windows process TCP, not a Unix socket to a Linux program."""
import os
import socket
import sys
import threading


def pump(src, dst):
    while True:
        data = src.recv(65536)
        if not data:
            break
        dst.sendall(data)
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.getsockname()[1]))


os.rename(sys.argv[2] + ".tmp", sys.argv[2])  # the port file appears once it listens
while True:
    client, _ = server.accept()
    agent = socket.socket(socket.AF_UNIX)
    agent.connect(sys.argv[1])
    threading.Thread(target=pump, args=(client, agent), daemon=True).start()
    threading.Thread(target=pump, args=(agent, client), daemon=True).start()
