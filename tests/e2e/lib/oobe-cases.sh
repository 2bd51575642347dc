# shellcheck shell=bash
# The cases of test_oobe.sh, one function each; sourced by it (uses its helpers and variables).
# shellcheck disable=SC2154,SC2153,SC2034 # here, tmpdir, PASSWORD, rc: set and read by test_oobe.sh
# shellcheck disable=SC2016 # single-quoted $ texts are for the shell inside the guest

# Asserts one field of the guest's passwd entry for USER, read with the guest's own getent.
expect_passwd_field() {
    local root=$1 user=$2 field=$3 want=$4 got
    got=$(e2e_guest_run "$root" -- getent passwd "$user" | cut -d: -f"$field")
    [[ $got == "$want" ]] || e2e_fail "getent passwd $user field $field: '$got', expected '$want'"
}

# Whether Python's crypt (the host's libcrypt) accepts PASSWORD for USER's hash in ROOTFS/etc/shadow.
hash_verifies() {
    local root=$1 user=$2 password=$3
    "$PY" -W ignore - "$root/etc/shadow" "$user" "$password" <<'PYEOF'
import crypt, sys
shadow, user, password = sys.argv[1:]
for line in open(shadow):
    f = line.rstrip("\n").split(":")
    if f[0] == user:
        sys.exit(0 if crypt.crypt(password, f[1]) == f[1] else 1)
sys.exit(2)
PYEOF
}

# Signs in as USER with `su` from an unprivileged account, typing PASSWORD on a real pty.
su_works() {
    local root=$1 user=$2 password=$3
    "$PY" "$here/lib/pty-password.py" "$password" bash -c \
        'source "$1/lib/common.sh"; source "$1/lib/guest.sh"; e2e_guest_as_user "$2" nobody -- su "$3" -c "id -un"' \
        sh "$here" "$root" "$user"
}

case_unattended() {
    local root=$1
    new_guest "$root"

    e2e_check "before setup the guest does not trust the test CA (the trust check can fail)"
    if verify_leaf "$root" >/dev/null 2>&1; then e2e_fail "the leaf verified before its CA was installed"; fi

    e2e_check "--check validates the answers against the image and changes nothing"
    oobe_with_answers "$root" "$tmpdir/answers.json" --check
    expect_rc 0 "--check"
    expect_output "valid for Debian GNU/Linux 12 (bookworm) (debian family)"
    expect_output "/user/password is plaintext"
    e2e_check "--dry-run prints the plan and changes nothing"
    oobe_with_answers "$root" "$tmpdir/answers.json" --dry-run
    expect_rc 0 "--dry-run"
    expect_output "[todo] create user dev (uid 1000, shell /bin/bash, sudo without password"
    expect_output "[todo] trust 1 CA certificate(s): /usr/local/share/ca-certificates/azurelinux-e2e-root.crt"
    [[ ! -e $root/var/lib/azurelinux-oobe && ! -e $root/var/log/azurelinux-oobe.log ]] ||
        e2e_fail "--dry-run or --check left state or a log behind"
    grep -q '^dev:' "$root/etc/passwd" && e2e_fail "--dry-run created the user"

    e2e_check "unattended run: exit 0, one line per step"
    oobe_with_answers "$root" "$tmpdir/answers.json"
    expect_rc 0 "unattended run"
    expect_output "+ user dev created (uid 1000, sudo without password)"
    expect_output "+ 1 package(s) already installed"
    expect_output "First-run setup complete; you are dev."

    e2e_check "the user: uid 1000, home, shell, gecos, groups (guest's getent and id)"
    expect_passwd_field "$root" dev 3 1000
    expect_passwd_field "$root" dev 5 "Dev User"
    expect_passwd_field "$root" dev 6 /home/dev
    expect_passwd_field "$root" dev 7 /bin/bash
    [[ $(stat -c %u "$root/home/dev") == 1000 ]] || e2e_fail "/home/dev is not owned by uid 1000"
    [[ -f $root/home/dev/.bashrc ]] || e2e_fail "/etc/skel was not copied into /home/dev"
    local groups
    groups=$(e2e_guest_run "$root" -- id -nG dev)
    [[ " $groups " == *" sudo "* && " $groups " == *" plugdev "* ]] || e2e_fail "id -nG dev: $groups"

    e2e_check "sudo -n true works for the user (nopasswd), and the sudoers file is 0440 and valid"
    e2e_guest_as_user "$root" dev -- sudo -n true || e2e_fail "sudo -n true failed for dev"
    [[ $(e2e_guest_as_user "$root" dev -- sudo -n id -u) == 0 ]] || e2e_fail "sudo -n id -u is not 0"
    [[ $(stat -c %a "$root/etc/sudoers.d/10-azurelinux-dev") == 440 ]] || e2e_fail "sudoers file mode"
    e2e_guest_run "$root" -- visudo -c -q || e2e_fail "visudo -c rejects the sudoers tree"

    e2e_check "the password: a yescrypt hash that crypt(3) and su (PAM, through a pty) accept"
    grep -q '^dev:\$y\$' "$root/etc/shadow" || e2e_fail "dev's shadow entry is not a yescrypt hash"
    hash_verifies "$root" dev "$PASSWORD" || e2e_fail "the hash does not verify the password"
    if hash_verifies "$root" dev "wrong"; then e2e_fail "the hash verifies a wrong password"; fi
    su_works "$root" dev "$PASSWORD" >"$tmpdir/su.out" 2>&1 || { cat "$tmpdir/su.out"; e2e_fail "su dev failed"; }
    grep -q '^dev' <(tr -d '\r' <"$tmpdir/su.out" | tail -n 1) || e2e_fail "su dev did not run as dev"
    if su_works "$root" dev "not the password" >/dev/null 2>&1; then e2e_fail "su accepted a wrong password"; fi

    e2e_check "ssh authorized_keys 0600 in a 0700 ~/.ssh owned by dev"
    [[ $(stat -c '%a %u' "$root/home/dev/.ssh") == "700 1000" ]] || e2e_fail "/home/dev/.ssh mode/owner"
    [[ $(stat -c '%a %u' "$root/home/dev/.ssh/authorized_keys") == "600 1000" ]] || e2e_fail "authorized_keys mode/owner"

    e2e_check "the CA is installed with update-ca-certificates and openssl verify trusts a leaf it signed"
    cmp -s "$tmpdir/ca.pem" "$root/usr/local/share/ca-certificates/azurelinux-e2e-root.crt" ||
        e2e_fail "the CA file in /usr/local/share/ca-certificates differs"
    verify_leaf "$root" >"$tmpdir/verify.out" 2>&1 || { cat "$tmpdir/verify.out"; e2e_fail "openssl verify failed"; }

    e2e_check "proxy: login shells of the user get it; apt's configuration carries it"
    [[ $(e2e_guest_as_user "$root" dev -- bash -lc 'echo "$https_proxy|$NO_PROXY"') == \
        "http://proxy.e2e.test:3128|localhost,.e2e.test,127.0.0.1,::1" ]] || e2e_fail "proxy variables in a login shell"
    e2e_guest_run "$root" -- apt-config dump | grep -F 'Acquire::http::Proxy "http://proxy.e2e.test:3128";' >/dev/null ||
        e2e_fail "apt-config does not show the proxy"

    e2e_check "host name, time zone, locale, systemd and bridge settings"
    [[ $(cat "$root/etc/hostname") == devbox ]] || e2e_fail "/etc/hostname"
    [[ $(readlink "$root/etc/localtime") == ../usr/share/zoneinfo/Europe/Paris ]] || e2e_fail "/etc/localtime"
    [[ $(cat "$root/etc/timezone") == Europe/Paris ]] || e2e_fail "/etc/timezone"
    [[ $(e2e_guest_run "$root" -- date -d 2024-01-15T12:00:00Z +%Z) == CET ]] || e2e_fail "date +%Z in the guest"
    grep -qx 'LANG=en_US.UTF-8' "$root/etc/default/locale" || e2e_fail "/etc/default/locale"
    e2e_guest_run "$root" -- locale -a | grep -qx 'en_US.utf8' || e2e_fail "en_US.UTF-8 was not generated"
    "$PY" - "$root/etc/wsl.conf" "$root/etc/azurelinux/bridge.conf" <<'PYEOF' || e2e_fail "wsl.conf or bridge.conf"
import configparser, sys
wsl = configparser.ConfigParser(); wsl.read(sys.argv[1])
assert wsl["network"]["hostname"] == "devbox", dict(wsl["network"])
assert wsl["boot"]["systemd"] == "false"
assert wsl["time"]["usewindowstimezone"] == "false"
assert not wsl.has_section("user"), "uid 1000 needs no [user] default"
bridge = configparser.ConfigParser(); bridge.read(sys.argv[2])
assert bridge["bridge"]["enabled"] == "true"
assert bridge["bridge"]["idletimeout"] == "600"
assert bridge["bridge"]["tenant"] == "contoso.example"
assert bridge["ssh-agent"]["enabled"] == "false" and bridge["gcm"]["enabled"] == "true"
assert bridge["gpg-agent"]["enabled"] == "false"
PYEOF
    [[ $(cat "$root/root/run-marker") == "ran for dev" ]] || e2e_fail "the run command did not run last as asked"

    e2e_check "log 0600 and state 0600 hold no secret"
    [[ $(stat -c %a "$root/var/log/azurelinux-oobe.log") == 600 ]] || e2e_fail "log mode"
    [[ $(stat -c %a "$root/var/lib/azurelinux-oobe/state.json") == 600 ]] || e2e_fail "state mode"
    grep -q 'step ca_certificates done' "$root/var/log/azurelinux-oobe.log" || e2e_fail "the log misses the steps"
    if grep -rqF "Corr3ct" "$root/var/log/azurelinux-oobe.log" "$root/var/lib/azurelinux-oobe"; then
        e2e_fail "the password reached the log or the state"
    fi
    grep -q '"finished": true' "$root/var/lib/azurelinux-oobe/state.json" || e2e_fail "state not finished"

    e2e_check "a second run with the same answers changes nothing (tree manifest)"
    e2e_manifest "$root" "$tmpdir/first.manifest"
    oobe_with_answers "$root" "$tmpdir/answers.json"
    expect_rc 0 "second run"
    expect_output "First-run setup is already complete."
    e2e_manifest "$root" "$tmpdir/second.manifest"
    e2e_compare_manifests "$tmpdir/first.manifest" "$tmpdir/second.manifest" "second run"
}

case_bad_answers() {
    local root=$1 i=0
    new_guest "$root"
    e2e_manifest "$root" "$tmpdir/bad-before.manifest"
    local -a edits=(
        'doc["user"]["uid"] = "1000"'
        'doc["hostnme"] = "devbox"'
        'doc["ca_certificates"] = [{"name": "bad", "pem": "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"}]'
        "doc[\"ca_certificates\"] = [{\"name\": \"old\", \"pem\": open(\"$tmpdir/expired.pem\").read()}]"
        'doc["user"]["name"] = "_apt"'
        'doc["systemd"] = True'
        'doc["user"]["groups"] = ["plugdev", "no-such-group"]'
        'doc["timezone"] = "Mars/Olympus_Mons"'
    )
    local -a messages=(
        '/user/uid: expected an integer, found string'
        '/hostnme: unknown key'
        '/ca_certificates/0/pem: certificate 1 does not parse as PEM'
        '/ca_certificates/0/pem: CA certificate "CN=E2E Expired Root" expired on Jan  1 00:00:00 2021 GMT'
        '/user/name: a user named "_apt" already exists'
        '/systemd: WSL boots systemd only when /sbin/init is an ELF executable'
        '/user/groups/1: group "no-such-group" does not exist in this image'
        '/timezone: "Mars/Olympus_Mons" is not in this image'
    )
    for ((i = 0; i < ${#edits[@]}; i++)); do
        e2e_check "bad answers are refused with exit 2 and the JSON path: ${messages[i]}"
        write_answers "$tmpdir/bad.json" "${edits[i]}"
        oobe_with_answers "$root" "$tmpdir/bad.json"
        expect_rc 2 "bad answers ${edits[i]}"
        expect_output "${messages[i]}"
    done
    e2e_check "no answers and no terminal: a clear error, exit 1"
    rc=0
    e2e_guest_run "$root" -- "$OOBE" >"$tmpdir/out" 2>&1 || rc=$?
    expect_rc 1 "no answers, no tty"
    expect_output "no answers file was found and there is no terminal"
    e2e_check "after all the refused runs the tree is unchanged (tree manifest)"
    e2e_manifest "$root" "$tmpdir/bad-after.manifest"
    e2e_compare_manifests "$tmpdir/bad-before.manifest" "$tmpdir/bad-after.manifest" "refused answers"
}

case_rollback_and_kill() {
    local root=$1
    e2e_check "a user step that fails half-way (read-only /etc/sudoers.d) is rolled back: exit 3, no user"
    rc=0
    e2e_guest_run "$root" --ro-bind "$root/etc/sudoers.d" /etc/sudoers.d \
        --ro-bind "$tmpdir/answers.json" /run/azurelinux/answers.json \
        --ro-bind "$tmpdir/ca.pem" /run/azurelinux/ca.pem \
        -- "$OOBE" --answers /run/azurelinux/answers.json >"$tmpdir/out" 2>&1 || rc=$?
    expect_rc 3 "read-only sudoers.d"
    expect_output "step user failed"
    if grep -q '^dev:' "$root/etc/passwd" "$root/etc/group" "$root/etc/shadow"; then
        e2e_fail "the half-created user was not removed"
    fi
    [[ ! -e $root/home/dev ]] || e2e_fail "the half-created home was not removed"

    e2e_check "a run killed (SIGKILL) half-way, after the user step, completes when run again"
    # No CA here: the trust store rebuild is slow on a loaded machine and was checked above; the
    # locale step (locale-gen) after the user step is what the kill lands in.
    write_answers "$tmpdir/kill.json" "del doc['user']['password']; del doc['ca_certificates']; doc['user']['password_hash'] = '$(openssl passwd -6 "$PASSWORD")'"
    local info=$tmpdir/bwrap-info
    e2e_guest_run "$root" --info-fd 3 --ro-bind "$tmpdir/kill.json" /run/azurelinux/answers.json \
        --ro-bind "$tmpdir/ca.pem" /run/azurelinux/ca.pem \
        -- "$OOBE" --answers /run/azurelinux/answers.json >"$tmpdir/kill.out" 2>&1 3>"$info" &
    local runner=$! state=$root/var/lib/azurelinux-oobe/state.json until_s
    # Polled: the state file is the run's only outward sign of a finished step. The deadline scales
    # with AZL_TEST_TIMEOUT_SCALE; the loop ends as soon as the step is recorded or the run ends.
    until_s=$((SECONDS + $(e2e_scaled 30)))
    while ((SECONDS < until_s)) && kill -0 "$runner" 2>/dev/null; do
        [[ -f $state ]] && grep -q '"user"' "$state" && break
        sleep 0.01
    done
    local child
    child=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["child-pid"])' "$info")
    kill -KILL "$child"
    wait "$runner" || true
    grep -q '"finished": true' "$state" && e2e_fail "the run finished before it could be killed half-way"
    grep -q '^dev:x:1000:' "$root/etc/passwd" || e2e_fail "the killed run had not created the user"
    oobe_with_answers "$root" "$tmpdir/kill.json"
    expect_rc 0 "re-run after kill"
    expect_output "= user: already done"
    expect_output "First-run setup complete; you are dev."
    hash_verifies "$root" dev "$PASSWORD" || e2e_fail "password after the re-run"
    grep -qx 'LANG=en_US.UTF-8' "$root/etc/default/locale" || e2e_fail "locale after the re-run"
    [[ $(cat "$root/root/run-marker") == "ran for dev" ]] || e2e_fail "run commands after the re-run"
    [[ $(grep -c '^dev:' "$root/etc/passwd") == 1 ]] || e2e_fail "dev appears twice in /etc/passwd"
}

# Windows interop as the guest sees it, faithful to the real tools' output: cmd.exe prints the value
# with CRLF, or the %NAME% text itself for an unset variable; wslpath -u maps C:\ to /mnt/c.
install_fake_interop() {
    local root=$1
    cat >"$root/usr/local/bin/cmd.exe" <<'SH'
#!/bin/sh
case "$*" in
"/c echo %USERNAME%") printf 'Jane.Doe\r\n' ;;
"/c echo %USERPROFILE%") printf 'C:\\Users\\Jane.Doe\r\n' ;;
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
}

check_found() { # ROOTFS EXPECTED-ORIGIN: which answers file --check picks without --answers
    rc=0
    e2e_guest_run "$1" --bind "$tmpdir/c" /mnt/c -- "$OOBE" --check >"$tmpdir/out" 2>&1 || rc=$?
    expect_rc 0 "--check without --answers"
    expect_output "$2: valid for"
}

case_precedence() {
    local root=$1 dir=$tmpdir/c/Users/Jane.Doe/.azurelinux
    new_guest "$root"
    install_fake_interop "$root"
    mkdir -p "$dir" "$root/etc/azurelinux"
    printf '{"version": 1, "hostname": "from-image"}\n' >"$root/etc/azurelinux/oobe.json"
    printf '{"version": 1, "hostname": "from-default"}\n' >"$dir/default.json"
    printf '{"version": 1, "hostname": "from-distro"}\n' >"$dir/$E2E_GUEST_DISTRO.json"
    chmod 600 "$root/etc/azurelinux/oobe.json" "$dir/$E2E_GUEST_DISTRO.json"
    chmod 644 "$dir/default.json"
    e2e_check "answers precedence: the host's <distro>.json, then default.json, then the image's"
    check_found "$root" "/mnt/c/Users/Jane.Doe/.azurelinux/$E2E_GUEST_DISTRO.json"
    rm "$dir/$E2E_GUEST_DISTRO.json"
    check_found "$root" /mnt/c/Users/Jane.Doe/.azurelinux/default.json
    expect_output "default.json is readable by every user"
    rm "$dir/default.json"
    check_found "$root" /etc/azurelinux/oobe.json
    rm "$root/etc/azurelinux/oobe.json"
}

# Runs the program on a real terminal (tmux); the screen is read with capture-pane. Each session
# gets a tmux server of its own: `kill-server` returns before the old one is gone, and a new
# session on its socket could meet it exiting.
tmux_session_start() {
    local root=$1
    TMUX_SESSIONS=$((${TMUX_SESSIONS:-0} + 1))
    TMUX_SOCKET=azl-oobe-e2e-$$-$TMUX_SESSIONS
    # The wrapper ignores SIGINT so that Ctrl-C reaches only the program (which handles it) and the
    # wrapper lives on to record the exit status and the terminal's settings afterwards.
    cat >"$tmpdir/tty-run.sh" <<SH
trap '' INT
source "$here/lib/common.sh"; source "$here/lib/guest.sh"
rc=0; e2e_guest_run "$root" --tty --bind "$tmpdir/c" /mnt/c -- "$OOBE" || rc=\$?
stty -a >"$tmpdir/stty.txt"
echo "exit=\$rc" >"$tmpdir/tty.rc"
sleep 60
SH
    rm -f "$tmpdir/tty.rc"
    tmux -L "$TMUX_SOCKET" new-session -d -s oobe -x 110 -y 40 "bash $tmpdir/tty-run.sh"
}

screen() { tmux -L "$TMUX_SOCKET" capture-pane -p -t oobe -S -100; }

# Waits until TEXT is on the screen COUNT times (default 1), 15 s at most (scaled).
wait_screen() {
    local text=$1 count=${2:-1} until_s=$((SECONDS + $(e2e_scaled 15)))
    while ((SECONDS < until_s)); do
        (($(screen | grep -cF -- "$text") >= count)) && return 0
        sleep 0.05
    done
    screen >&2
    e2e_fail "the terminal never showed: $text"
}

# Waits until the program has turned the terminal's echo off. It does so after printing a password
# prompt, discarding what was typed until then (TCSAFLUSH): keys sent as soon as the prompt shows
# can be lost on a busy machine, and the program then waits for a password that never comes.
wait_echo_off() {
    local tty until_s=$((SECONDS + $(e2e_scaled 15)))
    tty=$(tmux -L "$TMUX_SOCKET" display-message -p -t oobe '#{pane_tty}')
    while ((SECONDS < until_s)); do
        stty -F "$tty" -a 2>/dev/null | grep -qw -- -echo && return 0
        sleep 0.02
    done
    screen >&2
    e2e_fail "the terminal's echo never went off at the password prompt"
}

keys() { tmux -L "$TMUX_SOCKET" send-keys -t oobe "$@"; }

wait_exit() {
    local until_s=$((SECONDS + $(e2e_scaled 30)))
    while ((SECONDS < until_s)); do
        [[ -f $tmpdir/tty.rc ]] && { cat "$tmpdir/tty.rc"; return 0; }
        sleep 0.05
    done
    screen >&2
    e2e_fail "the interactive run did not finish"
}

case_interactive() {
    local root=$1
    # shellcheck disable=SC2016 # expanded at exit: every session's server
    e2e_on_exit 'for ((n = 1; n <= ${TMUX_SESSIONS:-0}; n++)); do tmux -L "azl-oobe-e2e-$$-$n" kill-server 2>/dev/null || true; done; cd / && rm -rf -- "$E2E_TMP"'
    local before
    before=$(cat "$root/etc/passwd" "$root/etc/shadow" "$root/etc/group" | sha256sum)

    e2e_check "interactive: Ctrl-C at the password prompt exits non-zero and leaves nothing behind"
    tmux_session_start "$root"
    wait_screen "New user name [janedoe]:"
    keys tester Enter
    wait_screen "New password for tester:"
    wait_echo_off
    keys C-c
    [[ $(wait_exit) == exit=1 ]] || { screen >&2; e2e_fail "Ctrl-C did not exit with 1"; }
    screen | grep -qF "first-run setup was interrupted; nothing half-done was left behind" ||
        e2e_fail "no message after Ctrl-C"
    grep -qw -- -echo "$tmpdir/stty.txt" && e2e_fail "the terminal was left without echo after Ctrl-C"
    [[ $(cat "$root/etc/passwd" "$root/etc/shadow" "$root/etc/group" | sha256sum) == "$before" ]] ||
        e2e_fail "Ctrl-C left a change in passwd/shadow/group"
    [[ ! -e $root/var/lib/azurelinux-oobe/state.json ]] || e2e_fail "Ctrl-C left a state file"
    tmux -L "$TMUX_SOCKET" kill-server

    e2e_check "interactive: welcome, invalid name -> message, mismatched passwords -> asked again, success"
    tmux_session_start "$root"
    wait_screen "Welcome to Debian GNU/Linux 12 (bookworm)"
    wait_screen "New user name [janedoe]:"
    keys Bad.Name Enter
    wait_screen '"Bad.Name" must start with a lower-case letter or'
    wait_screen "New user name [janedoe]:" 2
    keys tester Enter
    wait_screen "New password for tester:"
    wait_echo_off
    keys pw-one Enter
    wait_screen "Retype the password:"
    wait_echo_off
    keys pw-two Enter
    wait_screen "The passwords do not match. Try again."
    wait_screen "New password for tester:" 2
    wait_echo_off
    keys Good-pw-1 Enter
    wait_screen "Retype the password:" 2
    wait_echo_off
    keys Good-pw-1 Enter
    [[ $(wait_exit) == exit=0 ]] || { screen >&2; e2e_fail "the interactive run failed"; }
    screen | grep -qF "First-run setup complete; you are tester." || e2e_fail "no final summary"
    if screen | grep -qE 'pw-one|pw-two|Good-pw-1'; then e2e_fail "a password was echoed"; fi
    expect_passwd_field "$root" tester 3 1000
    hash_verifies "$root" tester Good-pw-1 || e2e_fail "the interactive password does not verify"
    e2e_guest_run "$root" -- id -nG tester | grep -qw sudo || e2e_fail "tester is not in the sudo group"
    tmux -L "$TMUX_SOCKET" kill-server
}
