# Azure bridge for login shells (installed as /etc/profile.d/azurelinux-bridge.sh by
# `azurelinux image build`): exports the managed-identity endpoint variables (IDENTITY_ENDPOINT,
# IDENTITY_HEADER, MSI_ENDPOINT, ...) that make Azure CLI and the Azure SDKs take their tokens from
# the Windows host's Azure CLI sign-in. `azurelinux-bridge env` starts the user's bridge when needed
# and prints nothing when the bridge is off (/etc/azurelinux/bridge.conf) or unavailable.
if [ -x /usr/bin/azurelinux-bridge ]; then
    eval "$(/usr/bin/azurelinux-bridge env 2>/dev/null)" || true
fi
