"""assuan-relay.py SOCKET_FILE: what `azurelinux.exe relay --assuan FILE` does, for the relay tests'
stand-in launcher: reads libassuan's socket file (a port, a line feed, a 16-byte nonce), connects to
127.0.0.1 on that port, sends the nonce, then copies stdin to the agent (half-closing it at the end
of stdin) and the agent to stdout until the agent closes."""
import os
import socket
import sys
import threading

content = open(sys.argv[1], "rb").read()
port, nonce = content.split(b"\n", 1)
if len(nonce) != 16:
    sys.exit("not a GnuPG socket file")
agent = socket.create_connection(("127.0.0.1", int(port)))
agent.sendall(nonce)


def to_agent():
    while True:
        data = os.read(0, 65536)
        if not data:
            agent.shutdown(socket.SHUT_WR)
            return
        agent.sendall(data)


threading.Thread(target=to_agent, daemon=True).start()
while True:
    data = agent.recv(65536)
    if not data:
        sys.exit(0)
    os.write(1, data)
