# Azure Linux for WSL — installed as /etc/profile.d/azurelinux-bridge.sh (root:root 0644).
# Points this login shell's Azure tools (azure-identity SDKs, az --identity, azd, Terraform) at the
# Windows Azure CLI's sign-in, and ssh at the Windows ssh-agent: `azurelinux-bridge env` starts this
# user's bridge and ssh-agent relay when they are not running (one of each per user; a systemd user
# unit may have started the bridge) and prints the exports of IDENTITY_ENDPOINT, IDENTITY_HEADER,
# MSI_ENDPOINT, AZD_AUTH_ENDPOINT, AZD_AUTH_KEY, ARM_USE_MSI, ARM_MSI_ENDPOINT and SSH_AUTH_SOCK (not
# when SSH_AUTH_SOCK already names a live agent). It prints nothing for a part turned off in
# /etc/azurelinux/bridge.conf or that cannot start, and waits for nothing on Windows. POSIX sh:
# every shell sources it.
if [ -n "${WSL_DISTRO_NAME:-}" ] && [ -x /usr/bin/azurelinux-bridge ]; then
    eval "$(/usr/bin/azurelinux-bridge --quiet env 2>/dev/null)" || true
fi
