#!/usr/bin/env bash
# cloud-init user-data without cloud-init, end to end, inside the real Debian guest tree run the way
# WSL runs first-run setup (lib/guest.sh). The directory $tmpdir/c stands in for the Windows C: drive
# (bound at /mnt/c, as WSL mounts it); fake cmd.exe and wslpath answer the way Windows' do through
# interop. In the stand-in %USERPROFILE%\.cloud-init\ an unmodified Ubuntu-style user-data file (the
# kind Canonical documents for Ubuntu on WSL) under the <ID>-<VERSION_ID> name, in another case, beside
# a default.user-data it must win over:
#   --dry-run (and --json) shows its values as the cloud-init layer's, the keys it does not use as
#   ignored, the file content and the CA as (set); a locked organisation value (%ProgramData%) beats
#   it and the refusal names the key, the user-data file and the policy;
#   the run creates the user (gecos, groups, NOPASSWD sudo, SSH key, WSL's default user through the
#   appended /etc/wsl.conf), trusts the CA, adds the apt source with its key and installs a package
#   from it (a local repository signed by a test key), writes the files and runs runcmd.
# Usage: test_cloud_init.sh AZURELINUX-OOBE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=tests/e2e/lib/guest.sh
source "$here/lib/guest.sh"
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

oobe_bin=$(realpath "${1:?usage: test_cloud_init.sh AZURELINUX-OOBE}")
e2e_require_root
e2e_require_tools bwrap gpg dpkg-deb openssl sha256sum python3
guest_tar=$(azl_guest_tar)
e2e_scratch
tmpdir=$E2E_TMP
OOBE=/usr/lib/wsl/azurelinux-oobe
drive=$tmpdir/c
profile=$drive/Users/Jane.Doe
root=$tmpdir/guest

expect_in() { # FILE TEXT
    if ! grep -qF -- "$2" "$1"; then
        cat "$1" >&2
        e2e_fail "expected $(basename "$1") to contain: $2"
    fi
}

e2e_check "the guest tree, interop stand-ins, a CA and a signed local apt repository on the C: drive"
e2e_guest_extract "$guest_tar" "$root"
install -D -m 0755 "$oobe_bin" "$root$OOBE"
cat >"$root/usr/local/bin/cmd.exe" <<'SH'
#!/bin/sh
case "$*" in
"/c echo %USERPROFILE%") printf 'C:\\Users\\Jane.Doe\r\n' ;;
"/c echo %ProgramData%") printf 'C:\\ProgramData\r\n' ;;
"/c echo "*) printf '%s\r\n' "${3}" ;;
*) exit 1 ;;
esac
SH
cat >"$root/usr/local/bin/wslpath" <<'SH'
#!/bin/sh
[ "$1" = -u ] || exit 1
printf '%s\n' "$2" | sed -e 's|^\([A-Za-z]\):|/mnt/\L\1|' -e 's|\\|/|g'
SH
chmod 755 "$root/usr/local/bin/cmd.exe" "$root/usr/local/bin/wslpath"
mkdir -p "$profile/.cloud-init" "$drive/ProgramData/AzureLinux" "$drive/repo/pool" pkg/DEBIAN pkg/usr/share/contoso
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 30 -nodes -subj "/CN=Contoso Cloud-Init Root" \
    -keyout /dev/null -out ca.pem 2>/dev/null
cat >pkg/DEBIAN/control <<'EOF'
Package: contoso-tools
Version: 1.0
Architecture: all
Maintainer: AZL Test <test@example.invalid>
Description: proves a package came from the user-data's apt source
EOF
echo "installed from the cloud-init apt source" >pkg/usr/share/contoso/hello.txt
deb=$drive/repo/pool/contoso-tools_1.0_all.deb
dpkg-deb --root-owner-group -Zgzip --build pkg "$deb" >/dev/null
cat >"$drive/repo/Packages" <<EOF
Package: contoso-tools
Version: 1.0
Architecture: all
Maintainer: AZL Test <test@example.invalid>
Filename: ./pool/contoso-tools_1.0_all.deb
Size: $(stat -c %s "$deb")
SHA256: $(sha256sum "$deb" | cut -d' ' -f1)
Description: proves a package came from the user-data's apt source

EOF
cat >Release <<EOF
Origin: Contoso
Label: Contoso
Date: $(date -Ru)
SHA256:
 $(sha256sum "$drive/repo/Packages" | cut -d' ' -f1) $(stat -c %s "$drive/repo/Packages") Packages
EOF
export GNUPGHOME=$tmpdir/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Contoso Repo <repo@contoso.example>' ed25519 sign never 2>/dev/null
gpg --batch --quiet --clearsign -o "$drive/repo/InRelease" Release
gpg --batch --armor --export >repo-key.asc

# The user-data: what Ubuntu on WSL users write (users, write_files appending the default user to
# /etc/wsl.conf, ca_certs, apt sources with an inline key, packages, runcmd), left as it is.
{
    cat <<'EOF'
#cloud-config
locale: en_US.UTF-8
timezone: Europe/Berlin

users:
- name: jdoe
  gecos: Jane Doe
  groups: users,sudo,netdev,audio
  sudo: "ALL=(ALL) NOPASSWD:ALL"
  shell: /bin/bash
  lock_passwd: true
  ssh_authorized_keys:
  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ7QmCzhwWSoaGxbh0ltxzr1d8L8wZm8hA5mXrXNy1wF jdoe@contoso

write_files:
- path: /etc/wsl.conf
  append: true
  content: |
    [user]
    default=jdoe
- path: /etc/contoso/token
  permissions: '0600'
  content: |
    s3cret-token
- path: /home/jdoe/.config/contoso/settings
  owner: jdoe:jdoe
  defer: true
  content: |
    color=blue

ca_certs:
  trusted:
  - |
EOF
    sed 's/^/    /' ca.pem
    cat <<'EOF'

apt:
  sources:
    contoso.list:
      source: deb [signed-by=$KEY_FILE] file:///mnt/c/repo ./
      key: |
EOF
    sed 's/^/        /' repo-key.asc
    cat <<'EOF'

packages:
- contoso-tools

ssh_pwauth: false
snap:
  commands:
  - snap install hello

runcmd:
- [sh, -c, "echo provisioned for $(getent passwd jdoe | cut -d: -f5) > /var/tmp/provisioned"]
- touch /var/tmp/runcmd-second
EOF
} >"$profile/.cloud-init/Debian-12.user-data"
# The least specific name, which the more specific one must beat.
printf '#cloud-config\nruncmd:\n- touch /var/tmp/default-user-data-used\n' >"$profile/.cloud-init/default.user-data"
if command -v cloud-init >/dev/null; then
    cloud-init schema --config-file "$profile/.cloud-init/Debian-12.user-data" >/dev/null ||
        e2e_fail "Debian's cloud-init does not take the test's user-data as valid cloud-config"
fi
# The organisation: the time zone is its to set.
cat >"$drive/ProgramData/AzureLinux/oobe.json" <<'JSON'
{"version": 1, "locked": ["/timezone"], "timezone": "Etc/UTC"}
JSON
chmod 600 "$drive/ProgramData/AzureLinux/oobe.json"
user_data=/mnt/c/Users/Jane.Doe/.cloud-init/Debian-12.user-data
org_file=/mnt/c/ProgramData/AzureLinux/oobe.json

oobe_run() {
    rc=0
    e2e_guest_run "$root" --bind "$drive" /mnt/c -- "$OOBE" "$@" >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    if [[ $rc -ne 0 ]]; then
        cat "$tmpdir/out" "$tmpdir/err" >&2
        e2e_fail "azurelinux-oobe $*: exit $rc"
    fi
}

e2e_check "--dry-run: the <ID>-<VERSION_ID> user-data (any case) is the cloud-init layer, below the organisation"
oobe_run --dry-run
expect_in "$tmpdir/out" "cloud-init      $user_data"
expect_in "$tmpdir/out" "/user/name = \"jdoe\"  [cloud-init: $user_data]"
expect_in "$tmpdir/out" "/user/sudo = \"nopasswd\"  [cloud-init: $user_data]"
expect_in "$tmpdir/out" "/packages/0 = \"contoso-tools\"  [cloud-init: $user_data]"
expect_in "$tmpdir/out" "/timezone = \"Etc/UTC\"  [machine policy: $org_file]"
expect_in "$tmpdir/out" "\"content\":\"(set)\""
expect_in "$tmpdir/out" "\"pem\":\"(set)\""
expect_in "$tmpdir/out" "/run/0 = \"(set)\"  [cloud-init: $user_data]"
if grep -qF "s3cret-token" "$tmpdir/out" "$tmpdir/err"; then e2e_fail "--dry-run showed a file's content"; fi
e2e_check "--dry-run: every key without an equivalent is named as ignored"
expect_in "$tmpdir/out" "ignored: ssh_pwauth: not used"
expect_in "$tmpdir/out" "ignored: snap: not used (no snapd in this image)"
expect_in "$tmpdir/out" "ignored: users/0/groups/netdev: not used (no such group in this image"
expect_in "$tmpdir/err" "$user_data: snap: not used"
e2e_check "the locked time zone: the user-data's value is refused, naming the key, the file and the policy"
expect_in "$tmpdir/err" "$user_data: /timezone is locked by the organisation ($org_file)"
expect_in "$tmpdir/out" "refused: /timezone from $user_data (locked by $org_file)"
e2e_check "--dry-run --json: the layer's ignored keys, the refusal, the files steps"
oobe_run --dry-run --json
python3 - "$tmpdir/out" "$user_data" "$org_file" <<'PYEOF' || e2e_fail "--dry-run --json: $(cat "$tmpdir/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
user_data, org_file = sys.argv[2:]
layers = {l["layer"]: l for l in doc["layers"]}
assert layers["cloud-init"]["origin"] == user_data, layers
assert any(n.startswith("snap: not used") for n in layers["cloud-init"]["ignored"]), layers
assert {"key": "/timezone", "origin": user_data, "locked_by": org_file} in doc["refused"], doc["refused"]
steps = [s["step"] for s in doc["steps"]]
assert steps.index("files") < steps.index("user") < steps.index("packages") < steps.index("files_deferred") < steps.index("run"), steps
PYEOF
[[ ! -e $root/var/lib/azurelinux-oobe ]] || e2e_fail "--dry-run left state behind"

e2e_check "azurelinux-oobe cloud-init FILE: what a user-data file gives here; bad YAML exits 2 naming the line"
oobe_run cloud-init "$user_data"
expect_in "$tmpdir/out" "/user/name = \"jdoe\""
expect_in "$tmpdir/out" "ignored: snap: not used"
printf '#cloud-config\nusers:\n- name: x\n  groups: [sudo\n' >"$profile/bad.user-data"
rc=0
e2e_guest_run "$root" --bind "$drive" /mnt/c -- "$OOBE" cloud-init /mnt/c/Users/Jane.Doe/bad.user-data \
    >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
[[ $rc == 2 ]] || e2e_fail "cloud-init with bad YAML exited $rc, expected 2"
expect_in "$tmpdir/err" "/mnt/c/Users/Jane.Doe/bad.user-data: not valid YAML: line 5"

e2e_check "the run provisions the user, the CA, the apt source and package, the files and runcmd"
oobe_run
passwd_line=$(grep '^jdoe:' "$root/etc/passwd") || e2e_fail "no user jdoe"
[[ $(cut -d: -f5,7 <<<"$passwd_line") == "Jane Doe:/bin/bash" ]] || e2e_fail "jdoe: $passwd_line"
for g in users audio sudo; do
    grep -qE "^$g:.*[:,]jdoe(,|$)" "$root/etc/group" || e2e_fail "jdoe is not in group $g"
done
grep -q 'NOPASSWD' "$root/etc/sudoers.d/"*jdoe || e2e_fail "no NOPASSWD sudo rule for jdoe"
grep -q 'jdoe@contoso' "$root/home/jdoe/.ssh/authorized_keys" || e2e_fail "the SSH key is missing"
[[ $(grep -c '^\[user\]' "$root/etc/wsl.conf") == 1 ]] || e2e_fail "wsl.conf: $(cat "$root/etc/wsl.conf")"
grep -qE '^default *= *jdoe' "$root/etc/wsl.conf" || e2e_fail "wsl.conf has no default=jdoe: $(cat "$root/etc/wsl.conf")"
[[ $(cat "$root/etc/timezone") == Etc/UTC ]] || e2e_fail "the locked time zone: $(cat "$root/etc/timezone")"
grep -qF "$(sed -n 2p ca.pem)" "$root/etc/ssl/certs/ca-certificates.crt" || e2e_fail "the CA is not in the trust bundle"
[[ $(cat "$root/usr/share/contoso/hello.txt") == "installed from the cloud-init apt source" ]] ||
    e2e_fail "contoso-tools was not installed from the user-data's apt source"
[[ $(stat -c %a "$root/etc/contoso/token") == 600 ]] || e2e_fail "/etc/contoso/token mode"
[[ $(stat -c %u:%g "$root/home/jdoe/.config/contoso/settings") == "$(cut -d: -f3,4 <<<"$passwd_line")" ]] ||
    e2e_fail "the deferred file is not jdoe's: $(stat -c %u:%g "$root/home/jdoe/.config/contoso/settings")"
[[ $(cat "$root/var/tmp/provisioned") == "provisioned for Jane Doe" ]] || e2e_fail "runcmd: $(cat "$root/var/tmp/provisioned" 2>&1)"
[[ -e $root/var/tmp/runcmd-second ]] || e2e_fail "the second runcmd command did not run"
[[ ! -e $root/var/tmp/default-user-data-used ]] || e2e_fail "default.user-data was used over Debian-12.user-data"

e2e_check "a second run changes nothing: wsl.conf is appended to once"
before=$(sha256sum "$root/etc/wsl.conf")
oobe_run
[[ $(sha256sum "$root/etc/wsl.conf") == "$before" ]] || e2e_fail "the second run changed /etc/wsl.conf"
e2e_log "all cloud-init checks passed (${SECONDS}s)"
