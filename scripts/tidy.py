#!/usr/bin/env python3
"""Runs clang-tidy (14) with the project's .clang-tidy over every project source.

Checked: common, rootfs, packaging, oobe, integration, launcher (src and app), fuzz, tests/unit and
tests/support, and the Windows-only files (src/win32/, cmd_image_windows.cpp) through the mingw-w64
configuration. Prints each finding once; exits 1 if there is any (the config makes every warning an
error), 2 if it cannot run. CI runs it beside the tests (.ci/run).

  scripts/tidy.py                       everything, 2 jobs (about 13 min on 2 idle cores)
  scripts/tidy.py -j 4 -B /tmp/tidy     more jobs, another build directory
  scripts/tidy.py rootfs/src/flatten.cpp oobe/src/answers.cpp   only these files
  scripts/tidy.py --no-windows          skip the mingw-w64 files (no cross compiler installed)
  scripts/tidy.py --per-file            every check on each file alone (about 45 min; slow reference)

Every file gets every enabled check in one run over a batch: a generated file that holds the text of
up to --batch sources compiled with the same flags, one after the other (a quoted #include that a
source finds beside itself is made absolute; a `#undef` between sources resets
readability-duplicate-include). A check's matchers walk the whole AST, libstdc++, fmt, spdlog,
nlohmann/json and Catch2 included: most of a file's cost is its headers, which a batch parses and
walks once for all its files. The sources are the batch's main file, so the checks that only look at
the main file see all of them: the clang static analyzer (path-sensitive analysis of every function
the sources define) and misc-unused-using-decls / misc-unused-alias-decls. Findings are reported at
the source's own path and line. A batch also sees more than one file does (an exception thrown in one
file's function called from another file's noexcept one, a null returned by one and used by another);
it can also miss what only one file alone shows (a using-declaration one source does not use but a
later one does). A batch that does not compile together (two sources define the same internal name)
is run again without the sources the compiler's errors point into, and those form a batch of their
own; an error it cannot place splits the batch in halves.

It only configures (no build): the compile databases are DIR/linux (preset `asan`: clang, with the
fuzz targets) and DIR/windows (preset `mingw`); DIR defaults to build/tidy. Wall time per run goes to
DIR/times.txt; the slowest are printed at the end.
Needs: clang-tidy (Debian: clang-tidy, i.e. clang-tidy-14), cmake, ninja, and for the Windows files
x86_64-w64-mingw32-g++-posix (scripts/install-deps.sh installs them all).
"""

import argparse
import concurrent.futures
import itertools
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIRS = ("common", "rootfs", "packaging", "oobe", "integration", "launcher", "fuzz",
               "tests/unit", "tests/support", "tests/wslsim")
FINDING = re.compile(r"^(/[^:]+):(\d+):(\d+): (warning|error): (.*) \[([^\]]+)\]$")


def fail(message, code=2):
    print(f"tidy.py: {message}", file=sys.stderr)
    sys.exit(code)


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-j", "--jobs", type=int, default=2, help="parallel clang-tidy runs (default 2)")
    p.add_argument("-B", "--build-dir", default="build/tidy", help="where the compile databases go")
    p.add_argument("--no-windows", action="store_true", help="skip the mingw-w64 files")
    p.add_argument("--batch", type=int, default=32, help="most files per batch (default 32)")
    p.add_argument("--per-file", action="store_true",
                   help="run every check on each file alone instead of in batches")
    p.add_argument("files", nargs="*", help="only these files (default: every project source)")
    a = p.parse_args()
    if a.jobs < 1 or a.batch < 1:
        fail("--jobs and --batch take a positive number")
    return a


def find_tidy():
    for name in ("clang-tidy-14", "clang-tidy"):
        path = shutil.which(name)
        if path:
            return path
    fail("clang-tidy not found (Debian: apt-get install clang-tidy, or scripts/install-deps.sh)")


def check_nolint():
    """The suppression rule: `// NOLINT(check): why` (also NOLINTNEXTLINE, NOLINTBEGIN); a bare
    NOLINT silences every check on its line, and a suppression without a reason cannot be reviewed."""
    good = re.compile(r"NOLINT(NEXTLINE|BEGIN)?\([a-z0-9.,-]+\): \S|NOLINTEND\([a-z0-9.,-]+\)")
    bad = []
    for top in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            for name in sorted(names):
                if not name.endswith((".cpp", ".hpp")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        if "NOLINT" in line and not good.search(line):
                            bad.append(f"{os.path.relpath(path, ROOT)}:{n}: {line.strip()}")
    if bad:
        print("tidy.py: NOLINT without a check name and a reason ('// NOLINT(check): why'):",
              file=sys.stderr)
        print("\n".join(bad), file=sys.stderr)
        sys.exit(1)


def configure(preset, db_dir):
    """A compile database for PRESET in DB_DIR, with CMake's unity batches split into their files."""
    log = f"{db_dir}.configure.log"
    with open(log, "w") as out:
        rc = subprocess.run(["cmake", "--preset", preset, "-B", db_dir,
                             "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"],
                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        with open(log) as f:
            tail = f.read().splitlines()[-5:]
        fail(f"configuring preset {preset} in {db_dir} failed; see {log}\n" + "\n".join(tail))
    path = os.path.join(db_dir, "compile_commands.json")
    with open(path) as f:
        entries = json.load(f)
    result = []
    for e in entries:
        if "/Unity/unity_" not in e["file"]:
            result.append(e)
            continue
        with open(e["file"]) as f:
            members = re.findall(r'#include "([^"]+)"', f.read())
        for m in members:
            copy = dict(e, file=m)
            if "command" in copy:
                copy["command"] = copy["command"].replace(e["file"], m)
            if "arguments" in copy:
                copy["arguments"] = [x.replace(e["file"], m) for x in copy["arguments"]]
            result.append(copy)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    return result


def project_sources(entries, exclude=()):
    """(file, entry) for the project's own sources in ENTRIES, in order, minus EXCLUDE."""
    seen = set(exclude)
    out = []
    for e in entries:
        f = os.path.normpath(os.path.join(e["directory"], e["file"]))
        rel = os.path.relpath(f, ROOT)
        if rel.startswith(tuple(d + "/" for d in SOURCE_DIRS)) and f not in seen:
            seen.add(f)
            out.append((f, e))
    return out


def flags_key(entry, file):
    """The compile command without its source and output: files with the same key can share a TU."""
    args = entry.get("arguments") or entry["command"].split()
    key, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a in ("-c", entry["file"], file):
            continue
        key.append(a)
    return entry["directory"], tuple(key)


def enabled_checks(tidy):
    out = subprocess.run([tidy, f"--config-file={ROOT}/.clang-tidy", "--list-checks"],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"clang-tidy --list-checks failed: {out.stderr.strip()}")
    return [line.strip() for line in out.stdout.splitlines()[1:] if line.strip()]


class Unit:
    """One clang-tidy run: MAIN_FILE (a source, or a batch holding MEMBERS) with CHECKS.
    BATCH_OF is the compile database of the members when MAIN_FILE is a generated batch, and LINES
    its line table: (first line, member path, line count) for each member, in order."""

    def __init__(self, kind, db, main_file, checks, label, members, batch_of=None, lines=()):
        self.kind, self.db, self.main_file, self.checks = kind, db, main_file, checks
        self.label, self.members, self.batch_of, self.lines = label, members, batch_of, lines

    def place(self, line):
        """(member path, line in it) for LINE of the batch file; (None, LINE) between members."""
        for first, path, count in reversed(self.lines):
            if line >= first:
                return (path, line - first + 1) if line < first + count else (None, line)
        return None, line

    def unbatch(self, text):
        """TEXT with every `batch.cpp:LINE:` turned into the member's path and line."""
        if not self.lines:
            return text

        def sub(m):
            path, line = self.place(int(m.group(1)))
            return f"{path or self.main_file}:{line}:"
        return re.sub(re.escape(self.main_file) + r":(\d+):", sub, text)


class Runner:
    """Runs clang-tidy; records each run's wall time."""

    def __init__(self, tidy, extra_args):
        self.tidy = tidy
        self.extra = extra_args  # kind -> [args]
        self.lock = threading.Lock()
        self.times = []  # (wall seconds, label)

    def run(self, unit):
        """Runs UNIT; returns (exit code, output)."""
        argv = [self.tidy, "--quiet", f"--config-file={ROOT}/.clang-tidy", "-p", unit.db,
                "--checks=-*," + ",".join(unit.checks), *self.extra[unit.kind], unit.main_file]
        start = time.monotonic()
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
        wall = time.monotonic() - start
        with self.lock:
            self.times.append((wall, unit.label))
            sys.stdout.write("x" if proc.returncode != 0 else ".")
            sys.stdout.flush()
        # On failure stderr says why (a bad config, a crash); it also carries clang-tidy's
        # statistics, which the report drops.
        out = proc.stdout + (proc.stderr if proc.returncode != 0 else "")
        return proc.returncode, unit.unbatch(out)


def defines_entry_point(path):
    """True if PATH defines main or a libFuzzer target's LLVMFuzzerTestOneInput."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return re.search(r'^(int main\(|extern "C" int LLVMFuzzerTestOneInput\()', text, re.M) is not None


QUOTED_INCLUDE = re.compile(r'^(\s*#\s*include\s*)"([^"]+)"(.*)$')


def write_batch(path, files):
    """Writes the text of FILES one after the other to PATH, each line where it was; returns the
    line table [(first line, file, line count)]."""
    table, out = [], ["// Generated by scripts/tidy.py: these sources in one translation unit.\n"]
    for name in files:
        # Any directive but #include clears readability-duplicate-include's list of seen headers.
        out.append(f"#undef AZL_TIDY_BATCH_MEMBER // {os.path.relpath(name, ROOT)}\n")
        here = os.path.dirname(name)
        with open(name, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        table.append((len(out) + 1, name, len(lines)))
        for line in lines:
            # What the compiler finds beside the including file comes first: from the batch's own
            # folder it would not, so those includes become absolute.
            m = QUOTED_INCLUDE.match(line)
            if m and os.path.exists(os.path.join(here, m.group(2))):
                line = f'{m.group(1)}"{os.path.normpath(os.path.join(here, m.group(2)))}"{m.group(3)}'
            out.append(line + "\n")
    with open(path, "w") as f:
        f.writelines(out)
    return table


def main():
    a = parse_args()
    os.chdir(ROOT)
    tidy = find_tidy()
    check_nolint()
    out_dir = os.path.abspath(a.build_dir)
    os.makedirs(out_dir, exist_ok=True)
    started = time.monotonic()

    units = []  # (kind, db dir, file, entry)
    linux_db = os.path.join(out_dir, "linux")
    linux = project_sources(configure("asan", linux_db))
    units += [("linux", linux_db, f, e) for f, e in linux]
    extra = {"linux": [], "windows": []}
    if not a.no_windows:
        cross = "x86_64-w64-mingw32-g++-posix"
        if not shutil.which(cross):
            fail(f"{cross} not found (scripts/install-deps.sh); use --no-windows to skip")
        windows_db = os.path.join(out_dir, "windows")
        windows = project_sources(configure("mingw", windows_db), exclude=[f for f, _ in linux])
        units += [("windows", windows_db, f, e) for f, e in windows]
        # clang as the mingw-w64 target, with the cross compiler's own libstdc++ headers.
        extra["windows"].append("--extra-arg-before=--target=x86_64-w64-mingw32")
        probe = subprocess.run([cross, "-xc++", "-E", "-v", "/dev/null"], capture_output=True,
                               text=True).stderr.splitlines()
        inside = False
        for line in probe:
            if line.startswith("#include <...> search starts here:"):
                inside = True
            elif line.startswith("End of search list."):
                inside = False
            elif inside and "/include/c++" in line:
                extra["windows"].append(f"--extra-arg=-isystem{line.strip()}")

    if a.files:
        wanted = {os.path.realpath(os.path.join(ROOT, f)) for f in a.files}
        known = {f for _, _, f, _ in units}
        for f in sorted(wanted - known):
            fail(f"{f} is in no compile database (a header is checked through the sources "
                 "that include it: name one of those)")
        units = [u for u in units if u[2] in wanted]

    checks = enabled_checks(tidy)

    batch_dir = os.path.join(out_dir, "batches")
    shutil.rmtree(batch_dir, ignore_errors=True)
    os.makedirs(batch_dir)
    runner = Runner(tidy, extra)

    # Batches: files with the same flags, in path order, at most --batch each.
    groups = {}
    for kind, db, f, e in units:
        groups.setdefault((kind, db) + flags_key(e, f), []).append((f, e))
    # A program's entry point (main, or a fuzz target's LLVMFuzzerTestOneInput) is defined once per
    # program: a second one in the same flags group is checked on its own.
    batches = []
    for (kind, db, *_), members in groups.items():
        members.sort(key=lambda m: m[0])
        with_entry = [m for m in members if defines_entry_point(m[0])]
        for m in with_entry[1:]:
            members.remove(m)
            batches.append((kind, db, [m]))
        for i in range(0, len(members), a.batch):
            batches.append((kind, db, members[i:i + a.batch]))

    def batch_db(kind, db, files, entry, n):
        """A one-entry compile database for a batch file including FILES; returns its paths."""
        d = os.path.join(batch_dir, f"{kind}-{n}")
        os.makedirs(d)
        main_file = os.path.join(d, "batch.cpp")
        table = write_batch(main_file, files)
        e = dict(entry)
        e["file"] = main_file
        if "command" in e:
            e["command"] = e["command"].replace(entry["file"], main_file)
        if "arguments" in e:
            e["arguments"] = [x.replace(entry["file"], main_file) for x in e["arguments"]]
        with open(os.path.join(d, "compile_commands.json"), "w") as f:
            json.dump([e], f)
        return d, main_file, table

    counter = itertools.count()

    def batch_unit(kind, db, members):
        """A unit that checks MEMBERS ([(file, entry)]) with every check."""
        if len(members) == 1:
            f = members[0][0]
            return Unit(kind, db, f, checks, os.path.relpath(f, ROOT), members)
        d, main_file, table = batch_db(kind, db, [f for f, _ in members], members[0][1],
                                       next(counter))
        label = f"{os.path.relpath(members[0][0], ROOT)} and {len(members) - 1} more"
        return Unit(kind, d, main_file, checks, label, members, db, table)

    if a.per_file:
        work = [Unit(kind, db, f, checks, os.path.relpath(f, ROOT), [(f, e)])
                for kind, db, f, e in units]
    else:
        work = [batch_unit(*b) for b in batches]
    # Largest first: batches, then files by size, so that the last runs are short ones.
    work.sort(key=lambda u: (len(u.members) == 1, -sum(os.path.getsize(f) for f, _ in u.members)))

    version = subprocess.run([tidy, "--version"], capture_output=True, text=True).stdout
    version = re.search(r"version (\S+)", version)
    print(f"clang-tidy {version.group(1) if version else '?'}: {len(units)} files, "
          f"{len(checks)} checks, {len(work)} runs, {a.jobs} jobs")

    # A batch whose files do not compile together (two of them define the same internal name, or
    # one's macros break another) is run again without the members its errors are in, and those
    # form a batch of their own; with an error in no member (a header), it is split in halves.
    # Its output is dropped.
    def regroup(u, out):
        """U's members in the parts to run again: without the members its errors are in, and
        those, or else its two halves."""
        hit = set()
        for line in out.splitlines():
            m = FINDING.match(line)
            if m and m.group(4) == "error" and "clang-diagnostic-error" in m.group(6):
                hit.add(os.path.normpath(os.path.join(ROOT, m.group(1))))
        clean = [x for x in u.members if x[0] not in hit]
        if hit and clean and len(clean) < len(u.members):
            return [clean, [x for x in u.members if x[0] in hit]]
        half = len(u.members) // 2
        return [u.members[:half], u.members[half:]]

    results, split = [], []
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        running = {pool.submit(runner.run, u): u for u in work}
        while running:
            done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                u = running.pop(future)
                rc, out = future.result()
                if u.batch_of is not None and "[clang-diagnostic-error" in out:
                    split.append(u.label)
                    for part in regroup(u, out):
                        v = batch_unit(u.kind, u.batch_of, part)
                        running[pool.submit(runner.run, v)] = v
                    continue
                results.append((u, rc, out))
    print()

    # Findings: each diagnostic with the lines after it (source, caret, notes), once per place.
    findings = {}
    failed_units = []
    for u, rc, out in results:
        block = None
        for line in out.splitlines():
            m = FINDING.match(line)
            if m:
                key = line.replace(",-warnings-as-errors", "")
                # A place reported again (a header in several batches) keeps its first report.
                block = None if key in findings else findings.setdefault(key, [line])
                continue
            if re.match(r"^\d+ (warnings?|errors?)( and \d+ errors?)? generated\.$", line) or \
                    line.startswith(("Suppressed ", "Use -header-filter")) or \
                    line.endswith("treated as errors"):
                continue
            if block is not None:
                block.append(line)
        if rc != 0 and not any(FINDING.match(x) for x in out.splitlines()):
            failed_units.append((u.label, out.strip()))

    elapsed = time.monotonic() - started
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    runner.times.sort(reverse=True)
    with open(os.path.join(out_dir, "times.txt"), "w") as f:
        for wall, label in runner.times:
            f.write(f"{wall:.1f} {label}\n")

    for key in sorted(findings, key=lambda k: (FINDING.match(k).group(1),
                                               int(FINDING.match(k).group(2)))):
        print("\n".join(findings[key]).rstrip())
    for label, out in failed_units:
        print(f"--- {label}: clang-tidy failed\n{out}")
    print("slowest (wall s):")
    for wall, label in runner.times[:5]:
        print(f"  {wall:6.1f}  {label}")
    if split:
        print(f"batches run again because their files do not compile together ({len(split)}; "
              "each costs a rerun, so rename the clashing internal names):")
        for label in split:
            print(f"  {label}")
    if findings:
        per_check = {}
        for key in findings:
            for c in FINDING.match(key).group(6).split(","):
                per_check[c] = per_check.get(c, 0) + 1
        print("findings per check:")
        for c, n in sorted(per_check.items(), key=lambda x: -x[1]):
            print(f"  {n:4} {c}")
    print(f"clang-tidy: {len(units)} files in {elapsed:.0f}s wall "
          f"({cpu.ru_utime + cpu.ru_stime:.0f}s CPU), {len(findings)} findings, "
          f"{len(failed_units)} runs failed")
    sys.exit(1 if findings or failed_units else 0)


if __name__ == "__main__":
    main()
