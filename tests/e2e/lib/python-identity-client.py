"""Gets a token the way a Python tool in the guest does: Debian's azure-identity (python3-azure),
ManagedIdentityCredential or DefaultAzureCredential, configured by the environment only.

Usage: python-identity-client.py managed|default SCOPE
Prints {"token": ..., "expires_on": ...} and exits 0, or {"error": "..."} and exits 1.
"""

import json
import sys

import azure.identity
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential


def main() -> int:
    kind, scope = sys.argv[1], sys.argv[2]
    if kind == "managed":
        credential = ManagedIdentityCredential()
    else:
        # What a developer's script uses; the browser is no option in a test.
        credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
    try:
        token = credential.get_token(scope)
    except Exception as error:  # every failure is the result here, as the tool would show it
        print(json.dumps({"error": str(error), "version": azure.identity.__version__}))
        return 1
    print(json.dumps({"token": token.token, "expires_on": token.expires_on,
                      "version": azure.identity.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
