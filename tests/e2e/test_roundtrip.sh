#!/usr/bin/env bash
# End to end on a real Debian tree: directory -> .wsl -> extraction gives the identical tree; builds
# are byte-reproducible (twice, any thread count, SOURCE_DATE_EPOCH from flag or environment);
# the checksum file and --json summary tell the truth; --add/--remove, layered --from (a plain tar
# under a directory) and --compression do what they say; `image check` and `image inspect` report
# what is true of a Debian minbase image; hostile command lines fail with one line naming the file
# and leave nothing behind.
#
# Usage: test_roundtrip.sh PATH/TO/azurelinux
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

e2e_require_root
e2e_require_tools umoci tar gzip xz zstd getfattr sha256sum python3 cmp
unset SOURCE_DATE_EPOCH
layout=$(azl_oci_layout)
minbase=$(azl_minbase_tar)
e2e_scratch
azl() { e2e_azl "$azl_bin" "$@"; }

# The tree as it is (--no-wsl-files): these tests compare it with its source. test_packaging.sh
# covers what a .wsl gets added.
build() { e2e_run azl --quiet image build --no-wsl-files "$@"; }

# e2e_expect_findings CHECK.json "ERROR RULES" "WARNING RULES": the report of `image check --json` is
# consistent (ok/errors/findings agree) and has at least these findings; with an empty ERROR RULES,
# it has no error at all.
e2e_expect_findings() {
    python3 - "$@" <<'EOF'
import json, sys
path, errors_wanted, warnings_wanted = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
j = json.load(open(path))
errors = {f["rule"] for f in j["findings"] if f["severity"] == "error"}
warnings = {f["rule"] for f in j["findings"] if f["severity"] == "warning"}
print(f"  errors: {' '.join(sorted(errors)) or '-'}; warnings: {' '.join(sorted(warnings)) or '-'}")
def fail(what):
    sys.exit(f"FAIL: image check {path}: {what}: {json.dumps(j['findings'])[:3000]}")
if j["ok"] != (not errors) or j["errors"] != sum(f["severity"] == "error" for f in j["findings"]):
    fail(f"ok={j['ok']} errors={j['errors']} disagree with the findings")
if not errors_wanted and errors:
    fail("expected no errors")
if missing := [r for r in errors_wanted if r not in errors] + [r for r in warnings_wanted if r not in warnings]:
    fail("missing findings " + " ".join(missing))
EOF
}

# The source: umoci's unpacked rootfs, a directory with every kind of entry (devices, a fifo, hard
# links, a file capability, a user xattr, setuid/setgid/sticky modes, non-root owners, long names).
ref=$(e2e_umoci_unpack "$layout" bundle)
e2e_manifest "$ref" src.manifest
mkdir out

e2e_check "azurelinux image build --from <directory> --json"
build --from "$ref" -o out/a.wsl --json >a.json
e2e_check "the --json summary parses and matches the file (path, bytes, sha256, entries, uncompressed size)"
tar -tf out/a.wsl | sed -e 's|^\./||' >members
wc -l <members >members.count
gzip -dc out/a.wsl | wc -c >uncompressed.count
python3 - a.json out/a.wsl out/a.wsl.sha256 "$(cat members.count)" "$(cat uncompressed.count)" <<'EOF'
import hashlib, json, os, sys
summary, wsl, sumfile, members, uncompressed = sys.argv[1:6]
j = json.load(open(summary))
print("  " + json.dumps({k: j.get(k) for k in ("bytes", "sha256", "entries", "uncompressed_bytes", "compression")}))
def expect(ok, what):
    if not ok:
        sys.exit(f"FAIL: --json: {what}: {json.dumps(j)}")
expect(os.path.samefile(j["path"], wsl), "path")
expect(j["bytes"] == os.path.getsize(wsl), "bytes")
expect(j["sha256"] == hashlib.sha256(open(wsl, "rb").read()).hexdigest(), "sha256")
expect(j["entries"] == int(members), f"entries (the archive has {members} members)")
expect(j["uncompressed_bytes"] == int(uncompressed), f"uncompressed_bytes (gzip -d gives {uncompressed})")
expect(os.path.samefile(j["checksum_file"], sumfile), "checksum_file")
expect(j["compression"] == "gzip", "compression")
EOF

e2e_check "sha256sum -c accepts the checksum file, and it names the .wsl's hash"
(cd out && sha256sum --quiet -c a.wsl.sha256) || e2e_fail "sha256sum -c out/a.wsl.sha256 failed"
[[ $(cut -d ' ' -f 1 out/a.wsl.sha256) == $(sha256sum out/a.wsl | cut -d ' ' -f 1) ]] ||
    e2e_fail "a.wsl.sha256 does not hold a.wsl's hash"

e2e_check "extraction gives back the identical tree (GNU tar)"
e2e_extract_gnutar out/a.wsl extracted
e2e_manifest extracted extracted.manifest
e2e_compare_manifests src.manifest extracted.manifest "directory -> .wsl -> GNU tar"

e2e_check "extraction with our safe extractor (image extract) gives back the identical tree"
e2e_run azl --quiet image extract out/a.wsl extracted-ours >/dev/null
e2e_manifest extracted-ours extracted-ours.manifest
e2e_compare_manifests src.manifest extracted-ours.manifest "directory -> .wsl -> azurelinux image extract"
[[ -z $(find . -maxdepth 1 -name 'extracted-ours.partial-*') ]] || e2e_fail "image extract left its staging directory"
rm -rf extracted-ours

e2e_check "building again gives identical bytes and an identical checksum file"
build --from "$ref" -o out/b.wsl
cmp out/a.wsl out/b.wsl || e2e_fail "two builds of the same directory differ"
[[ $(cut -d ' ' -f 1 out/a.wsl.sha256) == $(cut -d ' ' -f 1 out/b.wsl.sha256) ]] ||
    e2e_fail "the checksum files of two identical builds differ"

e2e_check "the thread count does not change the bytes (--threads 1)"
build --from "$ref" -o out/t1.wsl --threads 1
cmp out/a.wsl out/t1.wsl || e2e_fail "--threads 1 changed the output"

e2e_check "--source-date-epoch clamps every mtime; SOURCE_DATE_EPOCH in the environment does the same"
epoch=1700000000
build --from "$ref" -o out/sde.wsl --source-date-epoch "$epoch"
SOURCE_DATE_EPOCH=$epoch build --from "$ref" -o out/sde-env.wsl
cmp out/sde.wsl out/sde-env.wsl || e2e_fail "SOURCE_DATE_EPOCH and --source-date-epoch give different bytes"
python3 - out/sde.wsl "$epoch" <<'EOF'
import sys, tarfile
path, epoch = sys.argv[1], int(sys.argv[2])
newest = max(tarfile.open(path), key=lambda m: m.mtime)
if newest.mtime > epoch:
    sys.exit(f"FAIL: {newest.name} has mtime {newest.mtime} > {epoch}")
print(f"  newest mtime {newest.mtime} <= {epoch}")
EOF

e2e_check "--remove and --add/--add-dir change exactly what they name"
printf 'added by --add\n' >added.txt
mkdir -p extra/sub
printf 'added by --add-dir\n' >extra/sub/file
chmod 0750 extra/sub
chmod 0640 extra/sub/file
build --from "$ref" -o out/inject.wsl --remove /etc/motd --remove "/$E2E_OPAQUE_DIR" \
    --add added.txt:/etc/added.conf:0600 --add-dir extra:/opt/extra
cp -a "$ref" expected
rm -rf expected/etc/motd "expected/$E2E_OPAQUE_DIR"
install -m 0600 -o 0 -g 0 added.txt expected/etc/added.conf
cp -a extra expected/opt/extra
e2e_manifest expected expected.manifest
e2e_extract_gnutar out/inject.wsl injected
e2e_manifest injected injected.manifest
e2e_compare_manifests expected.manifest injected.manifest "--remove/--add/--add-dir"
rm -rf expected injected

e2e_check "--from a plain tar (mmdebstrap's own) --from a directory: the directory lands on top"
mkdir -p overlay/etc overlay/srv/overlay
chmod 0755 overlay overlay/etc
printf 'motd from the overlay directory\n' >overlay/etc/motd
printf 'new in the overlay\n' >overlay/srv/overlay/new.txt
chmod 0711 overlay/srv/overlay
build --from "$minbase" --from overlay -o out/layered.wsl
e2e_extract_gnutar "$minbase" layered-ref
cp -a overlay/. layered-ref/
e2e_manifest layered-ref layered-ref.manifest
e2e_extract_gnutar out/layered.wsl layered-ours
e2e_manifest layered-ours layered-ours.manifest
e2e_compare_manifests layered-ref.manifest layered-ours.manifest "minbase tar + overlay directory"
rm -rf layered-ref layered-ours

e2e_check "--compression none|zstd|xz: the same tar stream as gzip inside"
build --from "$ref" -o out/plain.tar --compression none
build --from "$ref" -o out/rootfs.tar.zst --compression zstd --level 1
build --from "$ref" -o out/xz.wsl --compression xz --level 1
gzip -dc out/a.wsl >stream.tar
cmp stream.tar out/plain.tar || e2e_fail "--compression none differs from the gzip build's tar stream"
zstd -dcq out/rootfs.tar.zst | cmp stream.tar - || e2e_fail "--compression zstd holds a different tar stream"
xz -dc out/xz.wsl | cmp stream.tar - || e2e_fail "--compression xz holds a different tar stream"
rm -f stream.tar out/plain.tar* out/xz.wsl*
e2e_check "image check: a zstd-compressed .wsl is an error (WSL imports gzip or xz only)"
mv out/rootfs.tar.zst out/zstd.wsl
rc=0
azl --quiet image check out/zstd.wsl --json >check-zstd.json || rc=$?
[[ $rc == 1 ]] || e2e_fail "image check of a zstd .wsl exits $rc, expected 1"
e2e_expect_findings check-zstd.json "wsl-compression" ""
rm -f out/zstd.wsl out/rootfs.tar.zst.sha256

e2e_check "image inspect --json: a Debian image, every entry counted"
e2e_run azl --quiet image inspect out/a.wsl --json >inspect.json
e2e_run azl --quiet image inspect "$layout" --json >inspect-oci.json
python3 - inspect.json inspect-oci.json "$(cat members.count)" <<'EOF'
import json, sys
wsl, oci, members = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
print("  .wsl: " + json.dumps({k: wsl.get(k) for k in ("format", "compression", "entries", "layers")})
      + " ID=" + str(wsl.get("os_release", {}).get("ID")))
print("  OCI:  " + json.dumps({k: oci.get(k) for k in ("format", "compression", "entries", "layers")}))
def expect(ok, what, j):
    if not ok:
        sys.exit(f"FAIL: inspect: {what}: {json.dumps(j)[:2000]}")
for j in (wsl, oci):
    expect(j.get("os_release", {}).get("ID") == "debian", "os_release.ID should be debian", j)
    expect(j.get("os_release", {}).get("VERSION_ID") == "12", "os_release.VERSION_ID should be 12", j)
expect(wsl["format"] == "tar" and wsl["compression"] == "gzip", "format/compression of a .wsl", wsl)
expect(wsl["entries"] == members, f"entries should be {members}", wsl)
expect(oci["format"] == "oci-layout" and oci["layers"] == 3, "format/layers of the OCI layout", oci)
expect(oci["entries"] == wsl["entries"], "the OCI layout and its .wsl should have as many entries", oci)
EOF

e2e_check "image check on the Debian minbase .wsl: exit 0, no errors, a resolv-conf warning; --json agrees"
# Debian's accounts and shell are what WSL wants: root is uid 0, no uid 1000 yet, shadow 0640 root,
# /bin/sh -> dash is an x86-64 ELF reached through the /bin -> usr/bin symlink, os-release has ID and
# VERSION_ID. mmdebstrap leaves /etc/resolv.conf in the tree, which WSL would replace: a warning.
grep -qx 'etc/resolv.conf' members || e2e_fail "fixture: the image has no /etc/resolv.conf"
rc=0
azl --quiet image check out/a.wsl >check.txt 2>&1 || rc=$?
sed -e 's/^/  | /' check.txt
rc_json=0
azl --quiet image check out/a.wsl --json >check.json || rc_json=$?
[[ $rc == 0 && $rc_json == 0 ]] || e2e_fail "image check exits $rc (with --json $rc_json), expected 0"
e2e_expect_findings check.json "" "resolv-conf"

e2e_check "image check --default-uid 42 on the Debian .wsl: error, _apt already has uid 42"
rc=0
azl --quiet image check out/a.wsl --default-uid 42 --json >check-42.json || rc=$?
[[ $rc == 1 ]] || e2e_fail "image check --default-uid 42 exits $rc, expected 1"
e2e_expect_findings check-42.json "passwd-default-uid" ""
grep -q "_apt" check-42.json || e2e_fail "the passwd-default-uid finding does not name _apt"

e2e_check "image check on a broken tree: exit 1, the rules it breaks are named"
mkdir -p broken/etc broken/usr/bin
printf 'toor:x:0:0:root:/root:/bin/sh\n' >broken/etc/passwd
# shellcheck disable=SC2016 # a literal password hash
printf 'toor:$6$salt$hash:19000:0:99999:7:::\n' >broken/etc/shadow
chmod 0644 broken/etc/shadow
printf 'ID=broken\n' >broken/etc/os-release
rc=0
azl --quiet image check broken --json >broken.json || rc=$?
[[ $rc == 1 ]] || e2e_fail "image check on a broken tree exits $rc, expected 1"
e2e_expect_findings broken.json "passwd-root group-file shadow-mode shell-elf" "password-hashes os-release usr-bin-id"

# Runs a command that must fail: non-zero exit, a first stderr line "azurelinux: ..." naming NEEDLE,
# at most a hint line after it, and nothing left in ./hostile.
expect_cli_error() {
    local what=$1 needle=$2 rc=0
    shift 2
    e2e_check "hostile input: $what"
    "$@" >stdout.txt 2>stderr.txt || rc=$?
    sed -e 's/^/  | /' stderr.txt
    ((rc != 0)) || e2e_fail "$what: exit status 0"
    [[ $(head -n 1 stderr.txt) == "azurelinux: "*"$needle"* ]] || e2e_fail "$what: the error does not name $needle"
    (($(wc -l <stderr.txt) <= 2)) || e2e_fail "$what: expected one error line (and a hint), got $(wc -l <stderr.txt)"
    [[ $(sed -n 2p stderr.txt) == "" || $(sed -n 2p stderr.txt) == "  hint: "* ]] ||
        e2e_fail "$what: the second line is not a hint"
    [[ -z $(ls -A hostile) ]] || e2e_fail "$what: left behind: $(ls -A hostile)"
}
mkdir hostile small
printf 'ID=small\n' >small/os-release
head -c 65536 /dev/urandom >garbage.bin
head -c $(($(stat -c %s out/a.wsl) / 2)) out/a.wsl >truncated.wsl
expect_cli_error "a --from that does not exist" missing.tar \
    azl --quiet image build --from "$PWD/missing.tar" -o hostile/x.wsl
expect_cli_error "a --from that is garbage" garbage.bin \
    azl --quiet image build --no-wsl-files --from garbage.bin -o hostile/x.wsl
expect_cli_error "a truncated .wsl as --from" truncated.wsl \
    azl --quiet image build --no-wsl-files --from truncated.wsl -o hostile/x.wsl
expect_cli_error "an output in a directory that does not exist" no-such-dir \
    azl --quiet image build --from small -o hostile/no-such-dir/x.wsl
expect_cli_error "a .wsl output with zstd compression (WSL cannot import it)" x.wsl \
    azl --quiet image build --from small -o hostile/x.wsl --compression zstd
expect_cli_error "image inspect of a file that does not exist" missing.wsl \
    azl --quiet image inspect "$PWD/missing.wsl"
e2e_check "image check of garbage exits 2 (unusable input)"
rc=0
azl --quiet image check garbage.bin >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] || e2e_fail "image check garbage.bin exits $rc, expected 2"

echo "PASS: test_roundtrip"
