#!/usr/bin/env python3
"""A static HTTPS server for the end-to-end tests: serves DIR on HOST at a free port, and writes
that port to PORT_FILE once it listens (the test waits for the file, not for time).

Usage: https-serve.py HOST DIR CERT KEY PORT_FILE
"""
import functools
import http.server
import os
import ssl
import sys


def main():
    host, root, cert, key, port_file = sys.argv[1:6]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
