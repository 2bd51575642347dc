# Azure Linux for WSL — installed as /etc/profile.d/azurelinux-bridge.sh (root:root 0644).
# Points this login shell's Azure tools (azure-identity SDKs, az --identity, azd, Terraform) at the
# Windows Azure CLI's sign-in: `azurelinux-bridge env` starts this user's bridge when it is not
# running (one per user; a systemd user unit may have started it) and prints the exports of
# IDENTITY_ENDPOINT, IDENTITY_HEADER, MSI_ENDPOINT, AZD_AUTH_ENDPOINT, AZD_AUTH_KEY, ARM_USE_MSI and
# ARM_MSI_ENDPOINT. It prints nothing when the
# bridge is turned off in /etc/azurelinux/bridge.conf or cannot start. POSIX sh: every shell sources it.
if [ -n "${WSL_DISTRO_NAME:-}" ] && [ -x /usr/bin/azurelinux-bridge ]; then
    eval "$(/usr/bin/azurelinux-bridge --quiet env 2>/dev/null)" || true
fi
