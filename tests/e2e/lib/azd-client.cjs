// azd's side of its external authentication, as azd implements it (Azure/azure-dev,
// cli/azd/pkg/auth/remote_credential.go; see tests/fixtures/azd-auth/README.md): reads
// AZD_AUTH_ENDPOINT and AZD_AUTH_KEY, POSTs {scopes, tenantId (only when set)} to
// ENDPOINT/token?api-version=2023-07-12-preview with "Authorization: Bearer KEY", treats any status
// but 200 as a failure without reading the body, and decodes the reply as azd does (expiresOn into
// a Go time.Time: RFC 3339 only). Prints {"token", "expiresOn", "expiresInSeconds"} or {"error"}
// (azd's own error text) as one JSON line; exit 2 on error.
//   node azd-client.cjs SCOPE [TENANT]
"use strict";
const http = require("http");

// Go's time.Time.UnmarshalJSON: time.RFC3339 ("2006-01-02T15:04:05Z07:00", fraction optional).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function fail(text) {
    console.log(JSON.stringify({ error: "RemoteCredential: " + text }));
    process.exit(2);
}

const [scope, tenant] = process.argv.slice(2);
const endpoint = process.env.AZD_AUTH_ENDPOINT || "";
const key = process.env.AZD_AUTH_KEY || "";
if (!endpoint || !key) {
    // azd falls back to its own sign-in: for this test, that is a failure.
    fail("AZD_AUTH_ENDPOINT and AZD_AUTH_KEY are not both set");
}
const body = JSON.stringify(tenant ? { scopes: [scope], tenantId: tenant } : { scopes: [scope] });
const url = new URL(`${endpoint}/token?api-version=2023-07-12-preview`);
const req = http.request(
    url,
    {
        method: "POST",
        headers: {
            "Content-Type": "application/json",
            Authorization: `Bearer ${key}`,
            "Content-Length": Buffer.byteLength(body),
        },
    },
    (res) => {
        if (res.statusCode !== 200) {
            res.resume();
            fail(`unexpected status code: ${res.statusCode}`);
        }
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
            let reply;
            try {
                reply = JSON.parse(Buffer.concat(chunks).toString());
            } catch (e) {
                fail(`decoding token response: ${e.message}`);
            }
            if (reply.status === "success") {
                if (typeof reply.token !== "string" || typeof reply.expiresOn !== "string" || !RFC3339.test(reply.expiresOn)) {
                    fail(`decoding token response: expiresOn ${JSON.stringify(reply.expiresOn)} is not RFC 3339`);
                }
                const expiresOn = Date.parse(reply.expiresOn);
                console.log(JSON.stringify({
                    token: reply.token,
                    expiresOn: reply.expiresOn,
                    expiresInSeconds: Math.round((expiresOn - Date.now()) / 1000),
                }));
                process.exit(0);
            } else if (reply.status === "error") {
                fail(`failed to acquire token: code: ${reply.code} message: ${reply.message}`);
            } else {
                fail(`unexpected status: ${reply.status}`);
            }
        });
    },
);
req.on("error", (e) => fail(`making request: ${e.message}`));
req.end(body);
