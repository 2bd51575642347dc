#!/usr/bin/python3
"""Runs a command on a new pseudo-terminal and types a password when it asks for one.

Usage: pty-password.py PASSWORD CMD [ARG...]
Waits (up to 20 s) for "Password:" on the terminal, types PASSWORD and Enter, copies everything the
command prints to stdout, and exits with the command's exit status. For checking that `su` (PAM,
pam_unix, the guest's own libcrypt) accepts a password, the way a person would type it.
"""
import os
import pty
import select
import sys
import time


def main() -> int:
    password, argv = sys.argv[1], sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen = b""
    typed = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not typed and b"assword:" in seen:
            time.sleep(0.2)  # let it turn echo off before the password arrives
            os.write(fd, password.encode() + b"\n")
            typed = True
    sys.stdout.write(seen.decode(errors="replace"))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
