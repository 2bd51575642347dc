#!/usr/bin/python3
"""Runs a command on a new pseudo-terminal and types a password when it asks for one.

Usage: pty-password.py PASSWORD CMD [ARG...]
Waits (up to 20 s) for "Password:" on the terminal and for the command to turn echo off (PAM
flushes what was typed before: a password typed early would be lost), types PASSWORD and Enter,
copies everything the command prints to stdout, and exits with the command's exit status. For
checking that `su` (PAM, pam_unix, the guest's own libcrypt) accepts a password, the way a person
would type it. AZL_TEST_TIMEOUT_SCALE stretches the 20 s.
"""
import os
import pty
import select
import sys
import termios
import time


def echo_off(fd):
    """Whether the terminal no longer echoes (the master sees the settings the command made)."""
    return not termios.tcgetattr(fd)[3] & termios.ECHO


def main() -> int:
    password, argv = sys.argv[1], sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen = b""
    typed = False
    deadline = time.monotonic() + 20 * float(os.environ.get("AZL_TEST_TIMEOUT_SCALE", "1"))
    while time.monotonic() < deadline:
        if not typed and b"assword:" in seen and echo_off(fd):
            os.write(fd, password.encode() + b"\n")
            typed = True
        # Until the prompt's echo is off, look again soon: that change comes without output.
        ready, _, _ = select.select([fd], [], [], 0.2 if typed or b"assword:" not in seen else 0.01)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    sys.stdout.write(seen.decode(errors="replace"))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
