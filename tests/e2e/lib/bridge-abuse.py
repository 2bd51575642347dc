#!/usr/bin/python3
"""Hostile and broken clients for azurelinux-bridge's token server (bench/bridge_soak.sh,
scripts/valgrind-bridge.sh). Python standard library only.

For DURATION seconds it runs, at once:
  quick      malformed requests, each kind with the exact status the server must answer (bad request
             lines, HTTP/2.0, huge and too many headers, bad or NUL percent-escapes, wrong methods,
             missing or wrong secret and Metadata headers, wrong prefix, chunked and oversized bodies,
             binary garbage, a flood of empty lines, ...), RATE a second in all
  slow       slowloris (a valid request head, one byte a second), a truncated body, a bare-LF
             request: each must get 408 within the server's 5 s request timeout (+ slack)
  idle       IDLE connections that connect and never send: the server may close them (keep-alive
             timeout, or to make room for new clients) but must never answer them; they reconnect
  cutters    clients that close (half of them with a TCP reset) in the middle of a request
  nonreader  one client that pipelines valid requests and never reads the replies: the server must
             stop reading it (back-pressure) and drop it within 15 s, not buffer replies without
             bound (it is dropped 5 s after its replies stopped moving)
  probe      a fresh connection with one valid request every 0.2 s: 200 each time, so hostile
             connections never starve a new, valid client
The endpoint and secret come from the environment, as `azurelinux-bridge env` exports them
(IDENTITY_ENDPOINT, IDENTITY_HEADER): never from the command line.

At its connection limit the server closes idle connections to make room, and refuses a new one when
none is idle; on a busy machine that can be a malformed or slow client's connection, accepted before
its first byte arrived. The server logs each such eviction (`evicted 127.0.0.1:PORT: WHY`, debug
level); given that log (--server-log, read at the end), a malformed or slow request answered by a
close is accepted exactly when the server says it evicted that connection (same client port, while
it was open), and counted as "evicted". Without the log, or for any other close, it is a mismatch.

Usage: bridge-abuse.py [-d DURATION] [--rate N] [--idle N] [--slow N] [--json FILE] [--server-log FILE]
Prints a report; exits 1 when any answer differs from the expected one, 0 otherwise.
"""
import argparse
import asyncio
import collections
import datetime
import json
import os
import random
import re
import socket
import struct
import sys
import time
import urllib.parse

REQUEST_TIMEOUT = 5.0  # the server's request deadline (ServerOptions::request_timeout)
KEEPALIVE_TIMEOUT = 60.0  # ... and its keep-alive timeout
SLACK = 3.0 * float(os.environ.get("AZL_TEST_TIMEOUT_SCALE", "1"))  # scheduling slack on a loaded machine
RESOURCE = "https://management.azure.com"
NONREADER_CAP = 32 << 20  # bytes: a server that accepts this much without reading back has no back-pressure


class Target:
    def __init__(self):
        endpoint = os.environ.get("IDENTITY_ENDPOINT", "")
        url = urllib.parse.urlsplit(endpoint)
        if url.hostname != "127.0.0.1" or not url.port or not url.path.endswith("/msi/token"):
            sys.exit("bridge-abuse.py: IDENTITY_ENDPOINT is not a bridge endpoint: run `eval \"$(azurelinux-bridge env)\"`")
        self.port = url.port
        self.prefix = url.path[: -len("/msi/token")]  # "/<64 hex>"
        self.header = os.environ.get("IDENTITY_HEADER", "")
        if not self.header:
            sys.exit("bridge-abuse.py: IDENTITY_HEADER is not set")

    def valid(self, connection="close"):
        return (f"GET {self.prefix}/msi/token?api-version=2019-08-01&resource={RESOURCE} HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nX-IDENTITY-HEADER: {self.header}\r\nConnection: {connection}\r\n\r\n").encode()

    def quick_cases(self):
        """(name, request bytes, expected statuses in order) for requests answered at once."""
        p, h = self.prefix, self.header
        q = f"?api-version=2019-08-01&resource={RESOURCE}"
        ok_head = f"Host: 127.0.0.1\r\nX-IDENTITY-HEADER: {h}\r\n"

        def get(path, head=ok_head, version="HTTP/1.1", method="GET"):
            return f"{method} {path} {version}\r\n{head}\r\n".encode()

        garbage = bytes(b for b in os.urandom(1536) if b not in (10, 13))
        return [
            ("bad-request-line", b"GARBAGE\r\n\r\n", [400]),
            ("three-spaces", get(f"{p}/msi/token{q} extra"), [400]),
            ("bad-method-chars", get(f"{p}/msi/token{q}", method="G(T"), [400]),
            ("absolute-form", get(f"http://127.0.0.1{p}/msi/token{q}"), [400]),
            ("http-2.0", get(f"{p}/msi/token{q}", version="HTTP/2.0"), [505]),
            ("no-host", f"GET {p}/msi/token{q} HTTP/1.1\r\nX-IDENTITY-HEADER: {h}\r\n\r\n".encode(), [400]),
            ("huge-header", get(f"{p}/msi/token{q}", ok_head + "X-Pad: " + "a" * 9000 + "\r\n"), [431]),
            ("many-headers", get(f"{p}/msi/token{q}", ok_head + "".join(f"X-H{i}: v\r\n" for i in range(60))), [431]),
            ("control-char", get(f"{p}/msi/token{q}", ok_head + "X-Bad: a\x01b\r\n"), [400]),
            ("bare-cr", get(f"{p}/msi/token{q}", ok_head + "X-Bad: a\rb\r\n"), [400]),
            ("bad-percent", get(f"{p}/msi/token?api-version=2019-08-01&resource=%zz"), [400]),
            ("truncated-percent", get(f"{p}/msi/token?api-version=2019-08-01&resource=abc%4"), [400]),
            ("nul-percent", get(f"{p}/msi/token?api-version=2019-08-01&resource=a%00b"), [400]),
            ("repeated-param", get(f"{p}/msi/token{q}&resource=x"), [400]),
            ("no-resource", get(f"{p}/msi/token?api-version=2019-08-01"), [400]),
            ("user-assigned", get(f"{p}/msi/token{q}&client_id=00000000-0000-0000-0000-000000000000"), [400]),
            ("wrong-api-version", get(f"{p}/msi/token?api-version=2017-09-01&resource={RESOURCE}"), [400]),
            ("wrong-method", get(f"{p}/msi/token{q}", method="DELETE"), [405]),
            ("post-to-get", get(f"{p}/msi/token{q}", ok_head + "Content-Length: 0\r\n", method="POST"), [405]),
            ("missing-secret", get(f"{p}/msi/token{q}", "Host: 127.0.0.1\r\n"), [401]),
            ("wrong-secret", get(f"{p}/msi/token{q}", f"Host: 127.0.0.1\r\nX-IDENTITY-HEADER: {'0' * len(h)}\r\n"), [401]),
            ("short-secret", get(f"{p}/msi/token{q}", f"Host: 127.0.0.1\r\nX-IDENTITY-HEADER: {h[:-1]}\r\n"), [401]),
            ("missing-metadata", get(f"{p}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={RESOURCE}",
                                     "Host: 127.0.0.1\r\n"), [401]),
            ("wrong-prefix", get(f"/{'0' * (len(p) - 1)}/msi/token{q}"), [403]),
            ("no-prefix", get(f"/msi/token{q}"), [403]),
            ("unknown-endpoint", get(f"{p}/nope{q}"), [404]),
            ("chunked", get(f"{p}/cloudshell/token", "Host: 127.0.0.1\r\nMetadata: true\r\n"
                            "Transfer-Encoding: chunked\r\n", method="POST") + b"5\r\nhello\r\n0\r\n\r\n", [501]),
            ("oversized-body", get(f"{p}/cloudshell/token", "Host: 127.0.0.1\r\nMetadata: true\r\n"
                                   "Content-Length: 100000\r\n", method="POST"), [413]),
            ("bad-content-length", get(f"{p}/cloudshell/token", "Host: 127.0.0.1\r\nMetadata: true\r\n"
                                       "Content-Length: 12abc\r\n", method="POST"), [400]),
            ("conflicting-lengths", get(f"{p}/cloudshell/token", "Host: 127.0.0.1\r\nMetadata: true\r\n"
                                        "Content-Length: 3\r\nContent-Length: 4\r\n", method="POST") + b"abcd", [400]),
            ("bad-form-body", get(f"{p}/cloudshell/token", "Host: 127.0.0.1\r\nMetadata: true\r\n"
                                  "Content-Length: 12\r\n", method="POST") + b"resource=%zz", [400]),
            ("binary-garbage", b"\x00" + garbage + b"\r\n\r\n", [400]),
            ("empty-line-flood", b"\r\n" * 8192, [431]),
            ("pipelined-then-garbage", self.valid("keep-alive") + b"GARBAGE\r\n\r\n", [200, 400]),
        ]

    def slow_cases(self):
        """(name, bytes sent at once, bytes trickled one a second) that must end in 408."""
        head = self.valid().decode()
        return [
            ("slowloris", head[:1].encode(), head[1:].encode()),
            ("truncated-body", (f"POST {self.prefix}/cloudshell/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Metadata: true\r\nContent-Length: 100\r\n\r\nresource=h").encode(), b""),
            ("bare-lf", f"GET {self.prefix}/msi/token HTTP/1.1\nHost: 127.0.0.1\n\n".encode(), b""),
        ]


# What a client sees of a connection the server closed without answering.
CLOSED = ("closed", "reset")
# The server's log line for each connection it evicted (common/src/log.cpp's file pattern).
EVICTED_LINE = re.compile(r"^(\S+) bridge debug: evicted 127\.0\.0\.1:(\d+): (.*)$")


class Connection:
    """One client connection: its local port and when it was open (wall clock, as the log's)."""

    def __init__(self):
        self.port = None
        self.opened = time.time()

    def bound(self, sock):
        self.port = sock.getsockname()[1]


def read_evictions(path):
    """{port: [(wall-clock time, why), ...]} from the server's log."""
    evictions = collections.defaultdict(list)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = EVICTED_LINE.match(line.rstrip("\n"))
            if m:
                at = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
                evictions[int(m.group(2))].append((at, m.group(3)))
    return evictions


class Report:
    def __init__(self):
        self.sent = collections.Counter()  # case -> requests sent
        self.answers = collections.defaultdict(collections.Counter)  # case -> "400" / "closed" / ...
        self.mismatches = collections.Counter()
        self.examples = {}
        self.max_held = collections.defaultdict(float)  # case -> longest time the server held it
        self.nonreader_bytes = []
        self.valid_ok = 0
        self.valid_failed = 0
        self.closes = []  # (case, got, expected, Connection, closed at): judged by settle()

    def record(self, case, got, expected, held=None, conn=None):
        """Counts one outcome; `expected` is one outcome or a tuple of the acceptable ones. An
        unexpected close of connection `conn` is judged at the end, against the server's log."""
        self.sent[case] += 1
        self.answers[case][got] += 1
        if held is not None:
            self.max_held[case] = max(self.max_held[case], held)
        if got in (expected if isinstance(expected, tuple) else (expected,)):
            return
        if got in CLOSED and conn is not None and conn.port is not None:
            self.closes.append((case, got, expected, conn, time.time()))
            return
        self.mismatch(case, f"expected {expected}, got {got}")

    def mismatch(self, case, example):
        self.mismatches[case] += 1
        self.examples.setdefault(case, example)

    def settle(self, evictions):
        """Each unexpected close is an eviction when the server logged one for that client port
        while the connection was open (the log has milliseconds: 2 ms of slack), else a mismatch."""
        for case, got, expected, conn, closed in self.closes:
            hits = [why for at, why in evictions.get(conn.port, ())
                    if conn.opened - 0.002 <= at <= closed + 0.002]
            if hits:
                self.answers[case][got] -= 1
                self.answers[case]["evicted"] += 1
                if not self.answers[case][got]:
                    del self.answers[case][got]
            else:
                self.mismatch(case, f"expected {expected}, got {got} (port {conn.port}, "
                                    f"{'not evicted' if evictions else 'no --server-log'})")
        self.closes = []


async def read_response(reader, timeout):
    """One HTTP response: its status, or 'closed' (EOF first) / 'timeout'."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except asyncio.IncompleteReadError as e:
        return "closed" if not e.partial else "truncated"
    except (asyncio.TimeoutError, asyncio.LimitOverrunError):
        return "timeout"
    except ConnectionError:
        return "reset"
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ")[1] if lines[0].startswith("HTTP/1.1 ") else "bad-status-line"
    length = next((int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")), 0)
    try:
        body = await asyncio.wait_for(reader.readexactly(length), timeout)
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
        return "truncated"
    if status == "200" and b"access_token" not in body:
        return "200-without-token"
    return status


async def connect(target, limit=1 << 20):
    # asyncio reads ahead up to twice `limit` into its own buffer, whether or not we read.
    return await asyncio.open_connection("127.0.0.1", target.port, limit=limit)


def close_now(writer, reset=False):
    if reset and not writer.transport.is_closing():
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


async def quick(target, report, end, interval):
    cases = target.quick_cases()
    i = random.randrange(len(cases))
    while time.monotonic() < end:
        name, data, expected = cases[i % len(cases)]
        i += 1
        conn = Connection()
        try:
            reader, writer = await connect(target)
        except OSError as e:
            report.record(name, f"connect-{e.errno}", "answered")
            await asyncio.sleep(interval)
            continue
        conn.bound(writer.get_extra_info("socket"))
        try:
            writer.write(data)
            got = [await read_response(reader, 10.0) for _ in expected]
        except ConnectionError:
            got = ["reset"]
        if got[0] in CLOSED:
            got = got[:1]  # closed before the first answer: nothing after it is an answer
        close_now(writer)
        report.record(name, ",".join(got), ",".join(str(s) for s in expected), conn=conn)
        await asyncio.sleep(interval)


def complete_response(data):
    """The status of the one complete HTTP response in `data`, or None while it is incomplete."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = data[:head_end].decode("latin-1").split("\r\n")
    length = next((int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")), 0)
    if len(data) < head_end + 4 + length:
        return None
    return lines[0].split(" ")[1] if lines[0].startswith("HTTP/1.1 ") else "bad-status-line"


async def slow(target, report, end, index):
    # A raw socket: the trickle stops as soon as the answer starts to arrive (a write after the
    # server closed would reset the connection under a stream reader's buffered answer).
    loop = asyncio.get_running_loop()
    cases = target.slow_cases()
    i = index
    while time.monotonic() < end - REQUEST_TIMEOUT - SLACK:
        name, first, trickle = cases[i % len(cases)]
        i += 1
        start = time.monotonic()
        conn = Connection()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        data, got = b"", None
        try:
            await loop.sock_connect(sock, ("127.0.0.1", target.port))
            conn.bound(sock)
            await loop.sock_sendall(sock, first)
            pending = list(trickle)
            while got is None and time.monotonic() - start < REQUEST_TIMEOUT + SLACK + 5:
                try:
                    chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 1.0)
                except asyncio.TimeoutError:
                    if pending and not data:
                        sock.send(bytes([pending.pop(0)]))
                    continue
                data += chunk
                got = complete_response(data) if chunk else ("truncated" if data else "closed")
            got = got or "timeout"
        except ConnectionError:
            got = complete_response(data) or "reset"
        except OSError:
            sock.close()
            await asyncio.sleep(1)
            continue
        sock.close()
        held = time.monotonic() - start
        if got == "408" and held > REQUEST_TIMEOUT + SLACK:
            got = "408-late"
        report.record(name, got, "408", held, conn=conn)


async def idle(target, report, end):
    while time.monotonic() < end:
        start = time.monotonic()
        try:
            reader, writer = await connect(target)
        except OSError:
            await asyncio.sleep(1)
            continue
        try:
            data = await asyncio.wait_for(reader.read(1), max(0.1, end - time.monotonic()))
            got = "closed" if not data else "answered"
        except asyncio.TimeoutError:
            got = "open-at-end"  # the run ended first
        except ConnectionError:
            got = "closed"
        held = time.monotonic() - start
        close_now(writer)
        if held > KEEPALIVE_TIMEOUT + SLACK:
            got = "held-too-long"
        report.record("idle", got, ("closed", "open-at-end"), held)
        await asyncio.sleep(1.0)  # a closed idle client comes back, but does not hammer


async def cutter(target, report, end, interval):
    n = 0
    while time.monotonic() < end:
        n += 1
        data = target.valid()
        cut = random.randrange(1, len(data) - 1)
        try:
            reader, writer = await connect(target)
            writer.write(data[:cut])
            await writer.drain()
            await asyncio.sleep(0.01)
            close_now(writer, reset=n % 2 == 0)
            report.record("close-mid-request", "sent", "sent")
        except OSError:
            report.record("close-mid-request", "connect-failed", "sent")
        await asyncio.sleep(interval)


async def nonreader(target, report, end):
    batch = target.valid("keep-alive") * 256
    while time.monotonic() < end - KEEPALIVE_TIMEOUT / 4:
        reader, writer = await connect(target, limit=4096)
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sent, got = 0, "not-dropped"
        start = time.monotonic()
        writer.write(batch)
        while time.monotonic() - start < KEEPALIVE_TIMEOUT / 4:
            if sent >= NONREADER_CAP:
                got = "no-back-pressure"
                break
            try:
                await asyncio.wait_for(writer.drain(), 1.0)
            except asyncio.TimeoutError:
                continue  # the server stopped reading us: it must now drop the connection
            except ConnectionError:
                got = "dropped"  # seen by the pending write as a reset
                break
            sent += len(batch)
            writer.write(batch)
        report.nonreader_bytes.append(sent)
        close_now(writer, reset=True)
        report.record("nonreader", got, "dropped", time.monotonic() - start)
        await asyncio.sleep(1.0)


async def probe(target, report, end):
    while time.monotonic() < end:
        try:
            reader, writer = await connect(target)
            writer.write(target.valid())
            got = await read_response(reader, 10.0)
            close_now(writer)
        except OSError as e:
            got = f"connect-{e.errno}"
        if got == "200":
            report.valid_ok += 1
        else:
            report.valid_failed += 1
            report.examples.setdefault("probe", f"valid request on a new connection: {got}")
        await asyncio.sleep(0.2)


async def run(args):
    target = Target()
    report = Report()
    end = time.monotonic() + args.duration
    quick_lanes = 4
    tasks = [quick(target, report, end, quick_lanes / args.rate) for _ in range(quick_lanes)]
    tasks += [slow(target, report, end, i) for i in range(args.slow)]
    tasks += [idle(target, report, end) for _ in range(args.idle)]
    tasks += [cutter(target, report, end, 0.05) for _ in range(2)]
    tasks += [nonreader(target, report, end), probe(target, report, end)]
    await asyncio.gather(*tasks)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-d", "--duration", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=100.0, help="quick malformed requests a second")
    parser.add_argument("--idle", type=int, default=300, help="connections that never send")
    parser.add_argument("--slow", type=int, default=8, help="slowloris-style connections")
    parser.add_argument("--json", help="also write the report as JSON here")
    parser.add_argument("--server-log", help="the server's debug log, for the connections it evicted")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    report.settle(read_evictions(args.server_log) if args.server_log else {})

    malformed = sum(n for case, n in report.sent.items() if case not in ("idle", "close-mid-request", "nonreader"))
    by_status = collections.Counter()
    for case, answers in report.answers.items():
        if case not in ("idle", "close-mid-request", "nonreader"):
            for got, n in answers.items():
                by_status[got] += n
    print(f"malformed requests: {malformed} sent, answers: "
          + ", ".join(f"{s} x{n}" for s, n in sorted(by_status.items())))
    for case in sorted(report.sent):
        answers = ", ".join(f"{g} x{n}" for g, n in sorted(report.answers[case].items()))
        held = f", held max {report.max_held[case]:.1f} s" if case in report.max_held else ""
        bad = f"  MISMATCH x{report.mismatches[case]}: {report.examples[case]}" if report.mismatches[case] else ""
        print(f"  {case:24} {report.sent[case]:7}  {answers}{held}{bad}")
    if report.nonreader_bytes:
        print(f"  non-reading client: the server stopped reading after at most "
              f"{max(report.nonreader_bytes) >> 10} KiB (kernel buffers included)")
    print(f"valid requests on new connections (probe): {report.valid_ok} ok, {report.valid_failed} failed"
          + (f" ({report.examples['probe']})" if "probe" in report.examples else ""))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"malformed": malformed, "by_status": by_status, "mismatches": sum(report.mismatches.values()),
                       "cases": {c: dict(a) for c, a in report.answers.items()},
                       "max_held": report.max_held, "nonreader_max_bytes": max(report.nonreader_bytes, default=0),
                       "probe_ok": report.valid_ok, "probe_failed": report.valid_failed}, f, indent=1)
    return 1 if report.mismatches or report.valid_failed else 0


if __name__ == "__main__":
    sys.exit(main())
