"""assuan-tcp-agent.py SOCKET_FILE AGENT_SOCKET: a stand-in for GnuPG's agent on Windows (Gpg4win),
which emulates its Unix sockets with libassuan's socket files: it listens on a free TCP port of
127.0.0.1 and writes SOCKET_FILE as libassuan does (the port in decimal, a line feed, 16 random
bytes of nonce). A client must send the nonce first; one that does not is dropped, as libassuan
drops it. Accepted clients are carried to a real gpg-agent's socket, AGENT_SOCKET."""
import os
import socket
import sys
import threading


def pump(src, dst):
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            break
        if not data:
            break
        dst.sendall(data)
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def serve(client, nonce, agent_path):
    if read_exactly(client, 16) != nonce:
        client.close()
        return
    agent = socket.socket(socket.AF_UNIX)
    agent.connect(agent_path)
    threading.Thread(target=pump, args=(agent, client), daemon=True).start()
    pump(client, agent)


server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
nonce = os.urandom(16)
with open(sys.argv[1] + ".tmp", "wb") as f:
    f.write(b"%d\n" % server.getsockname()[1] + nonce)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])  # the file appears once the port listens
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn, nonce, sys.argv[2]), daemon=True).start()
