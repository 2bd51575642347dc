#!/usr/bin/env bash
# A double-click, as a terminal user sees it: azurelinux.exe with no arguments, on a console (a
# tmux pane: Wine gives the program a console on it), installs the .wsl beside it, runs first-run
# setup interactively (user name, password twice, not echoed), and opens the new user's shell;
# the shell's exit code is the program's. Then `run` without a command opens the login shell.
#   test_console.sh LINUX_AZURELINUX WSLSIM_HOST
set -euo pipefail
# shellcheck source=lib/wine.sh
source "$(dirname "$0")/lib/wine.sh"
wine_setup "$1" "$2"
e2e_require_tools tmux
cp "${AZL_WINE_IMAGE:?}" "$EXE_DIR/AzureLinux.wsl"
cp "$AZL_WINE_IMAGE.sha256" "$EXE_DIR/AzureLinux.wsl.sha256"

export TMUX_TMPDIR=$WINE_DIR # a tmux server of this test's own
pane=console
password='S3cret-Passw0rd!'
# The pane runs one command with this test's environment, then keeps its exit code on screen.
pane_run() {
    tmux kill-session -t "$pane" 2>/dev/null || true
    tmux new-session -d -s "$pane" -x 120 -y 40 \
        "$(printf '%q ' "$@"); echo \"[exit \$?]\"; sleep 600"
}
screen() { tmux capture-pane -t "$pane" -p -S -200; }
# wait_for TEXT [SECONDS]: until the pane shows TEXT.
wait_for() {
    local deadline=$((SECONDS + ${2:-60}))
    until screen | grep -qF -- "$1"; do
        ((SECONDS < deadline)) || {
            screen >&2
            e2e_fail "the console never showed \"$1\""
        }
        sleep 0.2
    done
}

e2e_check "double-click: install, interactive first-run setup, the shell"
pane_run wine "$EXE"
wait_for "New user name:" 120
tmux send-keys -t "$pane" "bob" Enter
wait_for "New password for bob:"
tmux send-keys -t "$pane" "$password" Enter
wait_for "Retype the password:"
tmux send-keys -t "$pane" "$password" Enter
wait_for "First-run setup complete; you are bob." 120
wait_for "bob@"
screen | grep -qF -- "$password" && e2e_fail "the password was echoed: $(screen)"
tmux send-keys -t "$pane" 'echo "in the shell as $(id -un), tty: $(test -t 0 && echo yes)"; exit 5' Enter
wait_for "in the shell as bob, tty: yes"
wait_for "[exit 5]"
expect_in "wsl.exe --install --from-file C:\\Program Files\\AzureLinux\\AzureLinux.wsl --name AzureLinux" \
    "$(<"$CALLS")" "the image beside the exe"
expect_in '"RunOOBE"=dword:00000000' "$(lxss)" "setup recorded as done"

e2e_check "a second double-click opens the shell directly"
pane_run wine "$EXE"
wait_for "bob@" 60
screen | grep -qF "New user name" && e2e_fail "setup ran again: $(screen)"
tmux send-keys -t "$pane" 'exit 0' Enter
wait_for "[exit 0]"

e2e_check "run without a command: root's login shell"
pane_run wine "$EXE" run --user root
wait_for "root@" 60
tmux send-keys -t "$pane" 'echo "shell of $(id -un)"; exit 3' Enter
wait_for "shell of root"
wait_for "[exit 3]"
tmux kill-server
echo "PASS"
