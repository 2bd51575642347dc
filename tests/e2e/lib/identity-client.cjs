// Gets a token the way an application does, with the Azure SDK for JavaScript (@azure/identity),
// and prints {"token", "expiresOnTimestamp"} or {"error"} as one JSON line.
//   node identity-client.cjs managed|default SCOPE [SECONDS]
// With SECONDS, it asks twice from the same credential, SECONDS apart, and prints both answers.
// AZL_IDENTITY_DIR names the npm prefix where @azure/identity is installed.
"use strict";
const path = require("path");
const identity = require(path.join(process.env.AZL_IDENTITY_DIR, "node_modules", "@azure", "identity"));

async function once(credential, scope) {
    try {
        const t = await credential.getToken(scope);
        return { token: t.token, expiresOnTimestamp: t.expiresOnTimestamp };
    } catch (e) {
        return { error: String(e && e.message ? e.message : e) };
    }
}

async function main() {
    const [kind, scope, wait] = process.argv.slice(2);
    const credential = kind === "default" ? new identity.DefaultAzureCredential() : new identity.ManagedIdentityCredential();
    const first = await once(credential, scope);
    if (!wait) {
        console.log(JSON.stringify(first));
        process.exit(first.error ? 2 : 0);
    }
    await new Promise((resolve) => setTimeout(resolve, Number(wait) * 1000));
    const second = await once(credential, scope);
    console.log(JSON.stringify({ first, second }));
    process.exit(first.error || second.error ? 2 : 0);
}

main();
