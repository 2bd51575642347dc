// Gets a token the way az >= 2.73 does in a managed-identity shell: MSAL's managed-identity client
// (@azure/msal-node's ManagedIdentityApplication, the JavaScript twin of MSAL Python's
// ManagedIdentityClient, with the same source detection from the environment). Prints
// {"source", "token", "expiresOn"} or {"source", "error"} as one JSON line; exit 2 on error.
//   node msal-client.cjs RESOURCE
// AZL_IDENTITY_DIR names the npm prefix where @azure/identity (which brings msal-node) is installed.
"use strict";
const path = require("path");
const msal = require(path.join(process.env.AZL_IDENTITY_DIR, "node_modules", "@azure", "msal-node"));

async function main() {
    const [resource] = process.argv.slice(2);
    const app = new msal.ManagedIdentityApplication({ system: { disableInternalRetries: true } });
    const source = app.getManagedIdentitySource();
    try {
        const r = await app.acquireToken({ resource });
        console.log(JSON.stringify({ source, token: r.accessToken, expiresOn: r.expiresOn }));
        process.exit(0);
    } catch (e) {
        console.log(JSON.stringify({ source, error: String(e && e.message ? e.message : e) }));
        process.exit(2);
    }
}

main();
