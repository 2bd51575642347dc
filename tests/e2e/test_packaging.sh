#!/usr/bin/env bash
# End to end: `azurelinux image build` makes a .wsl of the real Debian guest tree (plus an overlay
# with a systemd unit that breaks under WSL and files carrying security xattrs) with everything WSL's
# modern format expects; `image check` passes it; then an independent reader (Python's tarfile,
# configparser, json, struct — no code of ours) confirms every rule: modes, owners, keys, sizes, the
# ICO header and frames, gzip magic, masked units, stripped xattrs. Refusals (zstd .wsl, a missing
# OOBE program) name the problem and leave nothing. `image manifest` (SHA-256, idempotent merge,
# second --default refused) and `image store-layout` (AppxManifest.xml parsed with xml.etree).
#
# Uses the real azurelinux-oobe / azurelinux-bridge beside the azurelinux binary when they are
# built, else small test programs compiled here.
#
# Usage: test_packaging.sh PATH/TO/azurelinux
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

e2e_require_root
e2e_require_tools python3 sha256sum cmp cc
unset SOURCE_DATE_EPOCH
guest=$(azl_guest_tar)
e2e_scratch
azl() { e2e_azl "$azl_bin" "$@"; }

# The guest programs: the real ones when built, else test programs (the lead wires the real ones).
tools=()
for prog in azurelinux-oobe azurelinux-bridge; do
    if [[ -x $(dirname "$azl_bin")/$prog ]]; then
        e2e_log "using the real $prog beside $azl_bin"
    else
        e2e_log "$prog is not built: using a test program compiled here"
        printf 'int main(void) { return 0; }\n' | cc -O2 -x c -o "test-$prog" -
        tools+=("--${prog#azurelinux-}" "$PWD/test-$prog")
    fi
done

# An overlay on top of the guest tree: systemd-resolved enabled (WSL breaks it), and a file with a
# SELinux label and a file capability (pax xattr records, as `tar --xattrs` writes them).
python3 - overlay.tar <<'EOF_PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data=b"", mode=0o644, kind=tarfile.REGTYPE, target="", xattrs=None):
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.linkname, info.mtime = kind, mode, target, 1700000000
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        info.pax_headers = {"SCHILY.xattr." + k: v for k, v in (xattrs or {}).items()}
        t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    for d in ("usr/lib/systemd", "usr/lib/systemd/system", "etc/systemd",
              "etc/systemd/system", "etc/systemd/system/multi-user.target.wants", "opt/e2e"):
        add(d, kind=tarfile.DIRTYPE, mode=0o755)
    add("usr/lib/systemd/system/systemd-resolved.service", b"[Unit]\nDescription=resolver\n")
    add("etc/systemd/system/multi-user.target.wants/systemd-resolved.service",
        kind=tarfile.SYMTYPE, target="/usr/lib/systemd/system/systemd-resolved.service")
    add("opt/e2e/labeled", b"#!/bin/sh\n", 0o755,
        xattrs={"security.selinux": "system_u:object_r:bin_t:s0\0",
                "security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"})
EOF_PY

e2e_check "image build --mask-units makes a .wsl of the guest tree plus the overlay"
e2e_run azl --quiet image build --from "$guest" --from overlay.tar -o AzureLinux.wsl \
    --default-name AzureLinux-E2E --mask-units "${tools[@]}" --json >build.json
python3 - build.json <<'EOF_PY'
import json, sys
j = json.load(open(sys.argv[1]))
print("  " + json.dumps({k: j[k] for k in ("wsl_files", "masked_units", "stripped_xattrs", "systemd", "arch")}))
assert j["wsl_files"] is True, j
assert j["masked_units"] == ["systemd-resolved.service"], j
assert j["stripped_xattrs"] == 1, j
assert j["arch"] == "x86_64" or j["arch"] == "aarch64", j
for path in ("/etc/wsl-distribution.conf", "/etc/wsl.conf", "/usr/lib/wsl/azurelinux-oobe",
             "/usr/share/wsl/azurelinux.ico", "/usr/lib/wsl/terminal-profile.json"):
    assert path in j["added"], (path, j["added"])
EOF_PY
arch=$(python3 -c 'import json; print(json.load(open("build.json"))["arch"])')

e2e_check "image check passes it (--arch $arch), and fails it for the other architecture"
e2e_run azl --quiet image check AzureLinux.wsl --arch "$arch" --json >check.json
python3 -c 'import json,sys; j=json.load(open("check.json")); print("  errors %d, warnings %d: %s" % (j["errors"], j["warnings"], sorted({f["rule"] for f in j["findings"]}))); sys.exit(0 if j["ok"] else 1)' ||
    e2e_fail "image check reports errors"
other=aarch64
[[ $arch == aarch64 ]] && other=x86_64
rc=0
azl --quiet image check AzureLinux.wsl --arch "$other" --json >check-other.json || rc=$?
((rc == 1)) || e2e_fail "image check --arch $other: exit $rc, expected 1"
grep -q '"rule": "oobe-command"' check-other.json || e2e_fail "--arch $other: no oobe-command finding"

e2e_check "an independent reader confirms every WSL rule (tarfile, configparser, json, struct)"
python3 - AzureLinux.wsl "$arch" <<'EOF_PY'
import configparser, hashlib, json, posixpath, struct, sys, tarfile
path, arch = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
def fail(msg):
    sys.exit("FAIL: " + msg)
if data[:2] != b"\x1f\x8b":
    fail("not gzip")
if open(path + ".sha256").read().split()[0] != hashlib.sha256(data).hexdigest():
    fail(".sha256 does not match")
tar = tarfile.open(path, "r:gz")
members = {m.name.lstrip("./"): m for m in tar.getmembers()}

def resolve(p, hops=0):
    parts, cur = p.split("/"), []
    while parts:
        c = parts.pop(0)
        if c in ("", "."):
            continue
        if c == "..":
            cur = cur[:-1]
            continue
        m = members.get("/".join(cur + [c]))
        if m is not None and m.issym():
            if hops > 40:
                fail("symlink loop at " + p)
            t = m.linkname
            base = [] if t.startswith("/") else cur
            return resolve("/".join(base + t.split("/") + parts), hops + 1)
        cur.append(c)
    m = members.get("/".join(cur))
    return m.linkname if m is not None and m.islnk() else "/".join(cur)

def member(p, mode=None, modes=None, max_size=None, root_group=True):
    m = members.get(p)
    if m is None or not m.isfile():
        fail(f"/{p} missing or not a file")
    if m.uid != 0 or (root_group and m.gid != 0):
        fail(f"/{p} owned by {m.uid}:{m.gid}")
    if mode is not None and m.mode != mode:
        fail(f"/{p} mode {m.mode:o}, want {mode:o}")
    if modes is not None and m.mode not in modes:
        fail(f"/{p} mode {m.mode:o}, want one of {modes}")
    if max_size is not None and m.size > max_size:
        fail(f"/{p} is {m.size} bytes")
    return tar.extractfile(m).read()

# /etc/wsl-distribution.conf: root 0644, only WSL's keys, the contract's values.
conf = configparser.ConfigParser()
conf.read_string(member("etc/wsl-distribution.conf", 0o644).decode())
keys = {(s, k) for s in conf.sections() for k in conf[s]}
want = {("oobe", "command"), ("oobe", "defaultuid"), ("oobe", "defaultname"), ("shortcut", "enabled"),
        ("shortcut", "icon"), ("windowsterminal", "enabled"), ("windowsterminal", "profiletemplate")}
if keys != want:
    fail(f"wsl-distribution.conf keys {sorted(keys)}")
if conf["oobe"]["command"] != "/usr/lib/wsl/azurelinux-oobe" or conf["oobe"]["defaultUid"] != "1000":
    fail("oobe command/defaultUid")
if conf["oobe"]["defaultName"] != "AzureLinux-E2E":
    fail("defaultName")
# OOBE and bridge programs: root 0755 ELF of the image's architecture.
machines = {62: "x86_64", 183: "aarch64"}
def elf_arch(blob):
    if blob[:4] != b"\x7fELF":
        fail("not ELF")
    return machines.get(struct.unpack_from("<H", blob, 18)[0], "other")
for p in ("usr/lib/wsl/azurelinux-oobe", "usr/bin/azurelinux-bridge"):
    if elf_arch(member(p, 0o755)) != arch:
        fail(f"/{p} is not {arch}")
sh = resolve("bin/sh")
shm = members[sh]
if not shm.isfile() or shm.mode != 0o755 or elf_arch(tar.extractfile(shm).read(64)) != arch:
    fail(f"/bin/sh -> /{sh} is not a 0755 {arch} ELF")
# Icon: root 0644, <= 1 MiB, an ICO whose frames are PNGs of 16..256 px.
ico = member(conf["shortcut"]["icon"].lstrip("/"), 0o644, max_size=1 << 20)
reserved, kind, count = struct.unpack_from("<HHH", ico, 0)
if (reserved, kind) != (0, 1):
    fail("ICO header")
sizes = []
for i in range(count):
    w, h, colors, res, planes, bpp, size, offset = struct.unpack_from("<BBBBHHII", ico, 6 + 16 * i)
    frame = ico[offset:offset + size]
    if frame[:8] != b"\x89PNG\r\n\x1a\n" or frame[12:16] != b"IHDR":
        fail(f"ICO frame {i} is not a PNG")
    pw, ph = struct.unpack_from(">II", frame, 16)
    if (pw, ph) != (w or 256, h or 256):
        fail(f"ICO frame {i}: directory {w}x{h}, PNG {pw}x{ph}")
    sizes.append(pw)
if sizes != [16, 24, 32, 48, 64, 128, 256]:
    fail(f"ICO sizes {sizes}")
# Terminal profile template: root 0640/0660, <= 1 MiB, JSON object with a profiles array.
profile = json.loads(member(conf["windowsterminal"]["profileTemplate"].lstrip("/"), modes=(0o640, 0o660), max_size=1 << 20))
if not isinstance(profile.get("profiles"), list) or not all(isinstance(p, dict) for p in profile["profiles"]):
    fail("terminal profile has no profiles array")
if profile["profiles"][0].get("startingDirectory") != "~":
    fail("startingDirectory")
# /etc/wsl.conf: root 0644, no [user] default, no systemd (Debian minbase has no /sbin/init).
wslconf = configparser.ConfigParser()
wslconf.read_string(member("etc/wsl.conf", 0o644).decode())
if wslconf.has_option("user", "default"):
    fail("wsl.conf sets [user] default")
init = resolve("sbin/init")
if wslconf.has_option("boot", "systemd") != (init in members and members[init].isfile()):
    fail("[boot] systemd does not follow /sbin/init")
# Accounts: 7 fields, unique uids, root is 0, nobody has 1000; shadow 0640/0600/0000.
uids = []
for line in member("etc/passwd").decode().splitlines():
    f = line.split(":")
    if len(f) != 7:
        fail(f"passwd line {line!r}")
    uids.append(int(f[2]))
    if f[0] == "root" and f[2] != "0":
        fail("root uid")
if len(uids) != len(set(uids)) or 1000 in uids:
    fail("passwd uids")
member("etc/shadow", modes=(0o640, 0o600, 0o000), root_group=False)  # group shadow is fine
# Bridge hook and config.
member("etc/profile.d/azurelinux-bridge.sh", 0o644)
bridge = configparser.ConfigParser()
bridge.read_string(member("etc/azurelinux/bridge.conf", 0o644).decode())
if "bridge" not in bridge:
    fail("bridge.conf has no [bridge]")
# The masked unit and the xattrs.
mask = members.get("etc/systemd/system/systemd-resolved.service")
if mask is None or not mask.issym() or mask.linkname != "/dev/null":
    fail("systemd-resolved.service is not masked")
labeled = members["opt/e2e/labeled"].pax_headers
if "SCHILY.xattr.security.selinux" in labeled or "SCHILY.xattr.security.capability" not in labeled:
    fail(f"xattrs of /opt/e2e/labeled: {sorted(labeled)}")
for m in members.values():
    for k in m.pax_headers:
        if k.startswith(("SCHILY.xattr.security.selinux", "SCHILY.xattr.security.ima", "SCHILY.xattr.security.evm")):
            fail(f"/{m.name} keeps {k}")
print(f"  {len(members)} members; icon frames {sizes}; bin/sh -> {sh} ({arch})")
EOF_PY

e2e_check "refusals: zstd for a .wsl, a missing --oobe; one line naming the problem, nothing left"
mkdir refused
rc=0
azl --quiet image build --from "$guest" -o refused/x.wsl --compression zstd "${tools[@]}" 2>err.txt || rc=$?
sed -e 's/^/  | /' err.txt
((rc != 0)) && grep -q 'gzip or xz' err.txt || e2e_fail "--compression zstd for a .wsl was not refused clearly"
rc=0
azl --quiet image build --from "$guest" -o refused/x.wsl --oobe "$PWD/no-such-oobe" 2>err.txt || rc=$?
sed -e 's/^/  | /' err.txt
((rc != 0)) && grep -q -- '--oobe' err.txt && grep -q 'no-such-oobe' err.txt ||
    e2e_fail "a missing --oobe program was not named"
[[ -z $(ls -A refused) ]] || e2e_fail "left behind: $(ls -A refused)"

e2e_check "image manifest: Sha256 = sha256sum, merge is idempotent, a second --default is refused"
url=https://example.com/wsl/AzureLinux-E2E.wsl
e2e_run azl --quiet image manifest --flavor AzureLinux --name AzureLinux-E2E \
    --friendly-name "Azure Linux E2E" --amd64 "$url=AzureLinux.wsl" --default -o DistributionInfo.json
python3 - DistributionInfo.json "$(sha256sum AzureLinux.wsl | cut -d ' ' -f 1)" <<'EOF_PY'
import json, sys
entry = json.load(open(sys.argv[1]))["ModernDistributions"]["AzureLinux"][0]
assert entry["Amd64Url"]["Sha256"] == sys.argv[2], entry
assert entry["Default"] is True and entry["Name"] == "AzureLinux-E2E", entry
EOF_PY
cp DistributionInfo.json once.json
e2e_run azl --quiet image manifest --flavor AzureLinux --name AzureLinux-E2E \
    --friendly-name "Azure Linux E2E" --amd64 "$url=AzureLinux.wsl" --default \
    --merge DistributionInfo.json -o DistributionInfo.json
cmp once.json DistributionInfo.json || e2e_fail "merging the same entry again changed the manifest"
rc=0
azl --quiet image manifest --flavor AzureLinux --name AzureLinux-E2E-2 --friendly-name "Second" \
    --amd64 "$url=AzureLinux.wsl" --default --merge DistributionInfo.json -o DistributionInfo.json \
    2>err.txt || rc=$?
sed -e 's/^/  | /' err.txt
((rc == 1)) && grep -q 'already has a default entry, AzureLinux-E2E' err.txt ||
    e2e_fail "a second --default was not refused (exit $rc)"
cmp once.json DistributionInfo.json || e2e_fail "the refused merge changed the manifest"

e2e_check "image store-layout: AppxManifest.xml well-formed and of the Store's shape, logos, install.tar.gz"
printf 'MZ test launcher\n' >azurelinux.exe
e2e_run azl --quiet image store-layout --image AzureLinux.wsl --launcher azurelinux.exe \
    --publisher "CN=Contoso E2E" --version 4.0.1.0 -o store >/dev/null
cmp AzureLinux.wsl store/install.tar.gz || e2e_fail "install.tar.gz is not the image"
cmp azurelinux.exe store/azurelinux.exe || e2e_fail "the launcher was not copied"
python3 - store <<'EOF_PY'
import os, struct, sys
import xml.etree.ElementTree as ET
root_dir = sys.argv[1]
ns = {"f": "http://schemas.microsoft.com/appx/manifest/foundation/windows10",
      "uap": "http://schemas.microsoft.com/appx/manifest/uap/windows10",
      "uap3": "http://schemas.microsoft.com/appx/manifest/uap/windows10/3",
      "desktop": "http://schemas.microsoft.com/appx/manifest/desktop/windows10",
      "rescap": "http://schemas.microsoft.com/appx/manifest/foundation/windows10/restrictedcapabilities"}
pkg = ET.parse(os.path.join(root_dir, "AppxManifest.xml")).getroot()
def one(path, el=pkg):
    found = el.findall(path, ns)
    if len(found) != 1:
        sys.exit(f"FAIL: {path}: {len(found)} elements")
    return found[0]
assert pkg.tag == "{%s}Package" % ns["f"], pkg.tag
ident = one("f:Identity")
assert ident.get("Publisher") == "CN=Contoso E2E" and ident.get("Version") == "4.0.1.0", ident.attrib
assert ident.get("ProcessorArchitecture") in ("x64", "arm64") and ident.get("Name"), ident.attrib
for tag in ("f:DisplayName", "f:PublisherDisplayName", "f:Logo"):
    assert one("f:Properties/" + tag).text, tag
one("f:Dependencies/f:TargetDeviceFamily[@Name='Windows.Desktop']")
one("f:Capabilities/rescap:Capability[@Name='runFullTrust']")
app = one("f:Applications/f:Application")
assert app.get("Executable") == "azurelinux.exe" and app.get("EntryPoint") == "Windows.FullTrustApplication"
ext = one("f:Extensions/uap3:Extension[@Category='windows.appExecutionAlias']", app)
assert ext.get("Executable") == "azurelinux.exe"
assert one("uap3:AppExecutionAlias/desktop:ExecutionAlias", ext).get("Alias") == "azurelinux.exe"
visual = one("uap:VisualElements", app)
logos = [one("f:Properties/f:Logo").text] + [visual.get(a) for a in ("Square150x150Logo", "Square44x44Logo")]
tile = one("uap:DefaultTile", visual)
logos += [tile.get(a) for a in ("Square71x71Logo", "Square310x310Logo")]
for logo in logos:
    png = open(os.path.join(root_dir, *logo.split("\\")), "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n", logo
    w, h = struct.unpack_from(">II", png, 16)
    name = logo.split("\\")[-1].replace("StoreLogo", "Square50x50Logo")
    digits = [int(x) for x in name.split("Logo")[0][len("Square"):].split("x")]
    assert [w, h] == digits, (logo, w, h)
print(f"  Identity {ident.get('Name')} {ident.get('Version')}; logos {len(logos)} checked")
EOF_PY
rc=0
azl image store-layout --image AzureLinux.wsl -o store-nolauncher 2>err.txt >/dev/null || rc=$?
((rc == 0)) && grep -q 'no launcher' err.txt || e2e_fail "store-layout without --launcher did not say so"

echo "PASS: test_packaging"
