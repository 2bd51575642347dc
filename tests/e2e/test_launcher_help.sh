#!/usr/bin/env bash
# What `azurelinux --help` and each lifecycle command's --help print: every command listed, every
# option documented, examples that name the command itself, exit 0; an unknown command is a usage
# error (exit 2).
#
# Usage: test_launcher_help.sh PATH/TO/azurelinux
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/common.sh
source "$here/lib/common.sh"

commands=(install setup run config get backup restore uninstall list terminate doctor seal relay sync image)

e2e_check "azurelinux --help lists every command and the no-argument behaviour"
top=$("$azl_bin" --help)
for c in "${commands[@]}"; do
    grep -qE "^  $c +[A-Z]" <<<"$top" || e2e_fail "--help does not list '$c':
$top"
done
grep -q "Without a command, azurelinux installs the distribution when it is missing" <<<"$top" ||
    e2e_fail "--help does not explain the no-argument behaviour"
grep -q "^Examples:" <<<"$top" || e2e_fail "--help has no examples"

# help_has COMMAND OPTION...: `azurelinux COMMAND --help` exits 0, documents each OPTION and has at
# least one example line that runs `azurelinux COMMAND`.
help_has() {
    local cmd=$1 text opt
    shift
    text=$("$azl_bin" "$cmd" --help) || e2e_fail "$cmd --help failed"
    grep -q "^Examples:" <<<"$text" || e2e_fail "$cmd --help has no examples"
    grep -qE "^  azurelinux $cmd( |$)" <<<"$text" || e2e_fail "$cmd --help has no example of itself"
    for opt in "$@"; do
        grep -qE -- "(^| |,)$opt( |,|$)" <<<"$text" || e2e_fail "$cmd --help does not document $opt:
$text"
    done
}

e2e_check "each command's --help documents its options with examples"
help_has install --name --from --location --answers --sha256 --root --no-launch --json
help_has setup --name --answers --wait
help_has run --name --user --cwd -c
help_has config --name --default-user --default-uid --interop --append-path --mount-drives --systemd --hostname
help_has get --name --default-user --default-uid --flags --version --location --all --json
help_has backup --name --output --format --force --json --seal
help_has restore --name --from --location --sha256
help_has uninstall --name --yes
help_has list --json
help_has terminate --name
help_has doctor --name --json
help_has seal --name --dry-run
help_has relay --pipe
help_has sync --name --json
help_has image build check inspect extract manifest store-layout

e2e_check "image --help shows image's own examples, not the top level's"
text=$("$azl_bin" image --help)
if grep -qE "^  azurelinux (install|run|doctor)( |$)" <<<"$text"; then
    e2e_fail "image --help ends with the top-level examples:
$text"
fi

e2e_check "an unknown command or option is a usage error"
rc=0
"$azl_bin" frobnicate >/dev/null 2>&1 || rc=$?
((rc == 2)) || e2e_fail "unknown command: exit $rc, expected 2"
rc=0
"$azl_bin" install --bogus >/dev/null 2>&1 || rc=$?
((rc == 2)) || e2e_fail "unknown option: exit $rc, expected 2"
rc=0
"$azl_bin" config --interop maybe >/dev/null 2>&1 || rc=$?
((rc == 2)) || e2e_fail "config --interop maybe: exit $rc, expected 2"
echo "launcher help: all checks passed"
