"""stdio-unix.py SOCKET: copies stdin to a Unix socket and the socket to stdout until either side
closes, as `azurelinux.exe relay --pipe` does with a Windows named pipe. The relay tests put it where
the guest looks for the Windows launcher, in front of a real agent's socket."""
import os
import selectors
import socket
import sys

sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
sel = selectors.DefaultSelector()
sel.register(0, selectors.EVENT_READ)
sel.register(sock, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj == 0:
            data = os.read(0, 65536)
            if not data:
                sys.exit(0)
            sock.sendall(data)
        else:
            data = sock.recv(65536)
            if not data:
                sys.exit(0)
            os.write(1, data)
