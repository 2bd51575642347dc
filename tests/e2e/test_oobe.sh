#!/usr/bin/env bash
# First-run setup (azurelinux-oobe) end to end, inside the real Debian guest tree, run the way WSL runs
# it: as root through bubblewrap (lib/guest.sh). Checks with tools that share no code with ours:
# the guest's own sudo, su (PAM), openssl verify, getent; Python's crypt; a tree manifest.
#   unattended run: user, groups, sudo, password, ssh key, CA trusted, proxy, hostname, ... ; a second
#   run changes nothing; a failing user step rolls back; a run killed half-way then re-run completes;
#   bad answers leave the tree unchanged; the answers precedence; a real terminal driven with tmux.
# Usage: test_oobe.sh AZURELINUX-OOBE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=tests/e2e/lib/guest.sh
source "$here/lib/guest.sh"
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

oobe_bin=$(realpath "${1:?usage: test_oobe.sh AZURELINUX-OOBE}")
e2e_require_root
e2e_require_tools bwrap tmux openssl unshare chroot setpriv getfattr
PY=/usr/bin/python3 # Debian's, with crypt and jsonschema (python3-jsonschema)
guest_tar=$(azl_guest_tar)
e2e_scratch
tmpdir=$E2E_TMP
OOBE=/usr/lib/wsl/azurelinux-oobe
# shellcheck disable=SC2034 # used by lib/oobe-cases.sh
PASSWORD='Corr3ct horse!'

# A fresh guest tree at DIR with the program where the image puts it.
new_guest() {
    e2e_guest_extract "$guest_tar" "$1"
    install -D -m 0755 "$oobe_bin" "$1$OOBE"
}

# Runs the program in ROOTFS with the answers file ANSWERS bound read-only where the launcher puts it;
# extra arguments go to the program. Output in $tmpdir/out, exit status in $rc.
oobe_with_answers() {
    local root=$1 answers=$2
    shift 2
    rc=0
    e2e_guest_run "$root" --ro-bind "$answers" /run/azurelinux/answers.json \
        --ro-bind "$tmpdir/ca.pem" /run/azurelinux/ca.pem \
        -- "$OOBE" --answers /run/azurelinux/answers.json "$@" >"$tmpdir/out" 2>&1 || rc=$?
}

expect_rc() {
    if [[ $rc -ne $1 ]]; then
        cat "$tmpdir/out" >&2
        e2e_fail "$2: exit $rc, expected $1"
    fi
}

expect_output() {
    if ! grep -qF -- "$1" "$tmpdir/out"; then
        cat "$tmpdir/out" >&2
        e2e_fail "expected output to contain: $1"
    fi
}

# Writes to OUT the test's answers document after EDIT, a Python statement changing `doc`.
write_answers() {
    local out=$1 edit=$2
    "$PY" - "$out" "$edit" "$PASSWORD" <<'PYEOF'
import json, sys
out, edit, password = sys.argv[1:4]
doc = {
    "version": 1,
    "user": {"name": "dev", "gecos": "Dev User", "groups": ["plugdev"], "sudo": "nopasswd",
             "password": password,
             "ssh_authorized_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2eE2eE2eE2eE2eE2eE2eE2eE2eE2eE2eE2eE2eE2e e2e@test"]},
    "hostname": "devbox",
    "locale": "en_US.UTF-8",
    "timezone": "Europe/Paris",
    "proxy": {"http": "http://proxy.e2e.test:3128", "https": "http://proxy.e2e.test:3128",
              "no_proxy": ["localhost", ".e2e.test"]},
    "ca_certificates": [{"name": "e2e-root", "file": "/run/azurelinux/ca.pem"}],
    "packages": ["sudo"],
    "systemd": False,
    "bridge": {"enabled": True, "idle_timeout": 600, "tenant": "contoso.example", "ssh_agent": False, "gpg_agent": False, "gcm": True},
    "run": ["echo \"ran for $AZURELINUX_OOBE_USER\" > /root/run-marker"],
}
exec(edit, {"doc": doc})
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
PYEOF
    chmod 600 "$out"
}

make_certificates() {
    local d=$tmpdir/pki
    mkdir -p "$d/exp"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" \
        -out "$tmpdir/ca.pem" -days 30 -subj "/CN=E2E Corp Root CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/leaf.key" \
        -out "$d/leaf.csr" -subj "/CN=service.e2e.test" 2>/dev/null
    openssl x509 -req -in "$d/leaf.csr" -CA "$tmpdir/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -days 5 -out "$tmpdir/leaf.pem" 2>/dev/null
    # An expired CA: `openssl ca` is the CLI that takes explicit start and end dates.
    touch "$d/exp/index.txt"
    echo 01 >"$d/exp/serial"
    printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s\nserial=%s\nnew_certs_dir=%s\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n' \
        "$d/exp/index.txt" "$d/exp/serial" "$d/exp" >"$d/exp/ca.cnf"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/exp.key" \
        -out "$d/exp.csr" -subj "/CN=E2E Expired Root" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
    openssl ca -batch -config "$d/exp/ca.cnf" -selfsign -keyfile "$d/exp.key" -in "$d/exp.csr" \
        -out "$tmpdir/expired.pem" -startdate 20200101000000Z -enddate 20210101000000Z -notext 2>/dev/null
}

verify_leaf() { # ROOTFS: does the guest's openssl trust the leaf through its default store?
    e2e_guest_run "$1" --ro-bind "$tmpdir/leaf.pem" /run/leaf.pem -- openssl verify /run/leaf.pem
}

# shellcheck source=tests/e2e/lib/oobe-cases.sh
source "$here/lib/oobe-cases.sh"

make_certificates
write_answers "$tmpdir/answers.json" ""
e2e_check "the answers used here and the shipped example are valid against the published schema"
"$PY" - "$here/../../oobe/schema/answers.schema.json" "$tmpdir/answers.json" \
    "$here/../../oobe/examples/answers.json" <<'PYEOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
for path in sys.argv[2:]:
    jsonschema.validate(json.load(open(path)), schema, cls=jsonschema.Draft202012Validator)
PYEOF

case_unattended "$tmpdir/g1"
case_bad_answers "$tmpdir/g2"
case_rollback_and_kill "$tmpdir/g2"
case_precedence "$tmpdir/g3"
case_interactive "$tmpdir/g3"
e2e_log "all first-run setup checks passed (${SECONDS}s)"
