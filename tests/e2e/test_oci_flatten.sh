#!/usr/bin/env bash
# End to end: `azurelinux image build` flattens a real 3-layer OCI image (Debian minbase + additions +
# whiteouts/opaque directory, see lib/rootfs-cache.sh) exactly as umoci, the reference OCI
# implementation, unpacks it: entry for entry (paths, types, modes, owners, link targets, content
# hashes, hard link groups, xattrs), read back with GNU tar and with bsdtar as WSL does. The same image
# as a tar of the layout and as a `docker save` archive gives the same bytes.
#
# Usage: test_oci_flatten.sh PATH/TO/azurelinux
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"
# shellcheck source=tests/e2e/lib/image-formats.sh
source "$here/lib/image-formats.sh"

e2e_require_root
e2e_require_tools umoci tar bsdtar getfattr getcap sha256sum python3 cmp
unset SOURCE_DATE_EPOCH
layout=$(azl_oci_layout)
minbase=$(azl_minbase_tar)
e2e_scratch
azl() { e2e_azl "$azl_bin" "$@"; }

e2e_check "reference: umoci unpack of $layout"
ref=$(e2e_umoci_unpack "$layout" bundle)
e2e_manifest "$ref" ref.manifest
echo "  $(wc -l <ref.manifest) entries"

e2e_check "azurelinux image build --from <OCI layout directory> -o oci.wsl"
e2e_run azl --quiet image build --no-wsl-files --from "$layout" -o oci.wsl
[[ -s oci.wsl ]] || e2e_fail "oci.wsl was not written"
[[ $(head -c 2 oci.wsl | od -An -tx1 | tr -d ' ') == 1f8b ]] || e2e_fail "oci.wsl is not gzip (what WSL imports)"

e2e_check "the archive's member names are relative, without '..', without duplicates"
tar -tf oci.wsl >members
grep -nE '^/|(^|/)\.\.(/|$)' members >bad-names || true
e2e_expect_empty bad-names "absolute or '..' member names in oci.wsl"
sed -e 's|^\./||' -e 's|/$||' members | LC_ALL=C sort | uniq -d >duplicates
e2e_expect_empty duplicates "duplicate members in oci.wsl"

e2e_check "GNU tar extraction of oci.wsl equals umoci's rootfs, entry for entry"
e2e_extract_gnutar oci.wsl gnutar
e2e_manifest gnutar gnutar.manifest
e2e_compare_manifests ref.manifest gnutar.manifest "umoci unpack vs ours (GNU tar)"

e2e_check "bsdtar extraction (as WSL imports: -x -p --xattrs --numeric-owner) equals umoci's rootfs"
e2e_extract_bsdtar oci.wsl bsdtar
e2e_manifest bsdtar bsdtar.manifest
e2e_compare_manifests ref.manifest bsdtar.manifest "umoci unpack vs ours (bsdtar)"

# The comparisons above prove equality with umoci; these prove the fixture exercised what it should.
e2e_check "layer 1 really had what layer 3 deletes"
tar -tf "$minbase" >minbase.members
for p in "$E2E_DELETED_FILE" "$E2E_DELETED_LINK_ORIGIN" "$E2E_DELETED_DIR/copyright" "$E2E_OPAQUE_DIR/copyright"; do
    grep -qxF "./$p" minbase.members || e2e_fail "fixture: ./$p is not in $minbase"
done
e2e_check "whiteouts: the deleted file, the deleted directory and the hard link origin are absent"
for p in "$E2E_DELETED_FILE" "$E2E_DELETED_DIR" "$E2E_DELETED_LINK_ORIGIN"; do
    [[ ! -e gnutar/$p && ! -L gnutar/$p ]] || e2e_fail "/$p should have been removed by a whiteout"
done
grep -F '.wh.' gnutar.manifest >leaked || true
e2e_expect_empty leaked "whiteout markers leaked into the image"
e2e_check "the other name of the deleted hard link survives as a regular file with its content"
[[ -f gnutar/$E2E_SURVIVING_LINK && $(stat -c %h "gnutar/$E2E_SURVIVING_LINK") -eq 1 ]] ||
    e2e_fail "/$E2E_SURVIVING_LINK should be a regular file with one link"
[[ $(stat -c %s "gnutar/$E2E_SURVIVING_LINK") -gt 1000000 ]] || e2e_fail "/$E2E_SURVIVING_LINK lost its content"
e2e_check "the opaque directory holds only the upper layer's content"
actual=$(cd "gnutar/$E2E_OPAQUE_DIR" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | tr '\n' ' ')
[[ $actual == "$E2E_OPAQUE_CONTENT " ]] ||
    e2e_fail "/$E2E_OPAQUE_DIR holds '$actual', expected '$E2E_OPAQUE_CONTENT '"
[[ $(stat -c %a "gnutar/$E2E_OPAQUE_DIR") == 750 ]] || e2e_fail "/$E2E_OPAQUE_DIR should have the upper mode 0750"
e2e_check "a directory replaced by a file in an upper layer is a file"
[[ -f gnutar/$E2E_TYPE_CHANGED ]] || e2e_fail "/$E2E_TYPE_CHANGED should be a regular file"
e2e_check "file capabilities and user xattrs survive"
getcap "gnutar/$E2E_CAP_FILE" | grep -q 'cap_net_bind_service,cap_net_raw=ep' ||
    e2e_fail "/$E2E_CAP_FILE lost its capabilities: $(getcap "gnutar/$E2E_CAP_FILE")"
[[ $(getfattr --only-values -n user.azl.comment "gnutar/$E2E_XATTR_FILE") == "hello e2e" ]] ||
    e2e_fail "/$E2E_XATTR_FILE lost user.azl.comment"
e2e_check "hard link pairs stay hard links; device nodes stay device nodes"
[[ $(stat -c %i gnutar/opt/e2e/hl-a) == $(stat -c %i gnutar/opt/e2e/hl-b) ]] || e2e_fail "hl-a/hl-b are not linked"
[[ -c gnutar/dev/null && $(stat -c '%t,%T' gnutar/dev/null) == 1,3 ]] || e2e_fail "/dev/null is not char 1,3"

e2e_check "a tar of the OCI layout gives the same bytes as the directory"
tar -C "$layout" -cf layout.tar .
e2e_run azl --quiet image build --no-wsl-files --from layout.tar -o oci-tar.wsl
cmp oci.wsl oci-tar.wsl || e2e_fail "oci-tar.wsl differs from oci.wsl"

e2e_check "a docker-save archive of the same image gives the same bytes"
e2e_docker_save "$layout" docker-save.tar
e2e_run azl --quiet image build --no-wsl-files --from docker-save.tar -o docker.wsl
cmp oci.wsl docker.wsl || e2e_fail "docker.wsl differs from oci.wsl"

e2e_check "multi-platform index: the default linux/amd64 is picked, not the first manifest"
e2e_multi_platform_layout "$layout" multi
e2e_run azl --quiet image build --no-wsl-files --from multi -o multi-amd64.wsl
cmp oci.wsl multi-amd64.wsl || e2e_fail "multi-amd64.wsl differs from oci.wsl"
e2e_check "--platform linux/arm64 picks the arm64 image, which equals umoci's unpack of it"
e2e_run azl --quiet image build --no-wsl-files --from multi --platform linux/arm64 -o multi-arm64.wsl
rm -rf bundle gnutar bsdtar
umoci unpack --image multi:arm64 bundle-arm64 >/dev/null
e2e_manifest bundle-arm64/rootfs arm64-ref.manifest
e2e_extract_gnutar multi-arm64.wsl arm64
e2e_manifest arm64 arm64.manifest
e2e_compare_manifests arm64-ref.manifest arm64.manifest "umoci unpack vs ours (--platform linux/arm64)"
[[ -e arm64/$E2E_DELETED_FILE ]] || e2e_fail "the arm64 image has only layer 1: /$E2E_DELETED_FILE should be there"
mkdir hostile
rc=0
azl --quiet image build --no-wsl-files --from multi --platform linux/s390x -o hostile/x.wsl 2>stderr.txt || rc=$?
e2e_check "--platform linux/s390x (absent): exit $rc, an error naming it, no output"
sed -e 's/^/  | /' stderr.txt
((rc != 0)) || e2e_fail "--platform linux/s390x succeeded"
grep -q 's390x' stderr.txt || e2e_fail "the error does not name the platform"
[[ -z $(ls -A hostile) ]] || e2e_fail "left behind: $(ls -A hostile)"

echo "PASS: test_oci_flatten"
