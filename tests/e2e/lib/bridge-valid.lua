-- wrk script: valid token requests to azurelinux-bridge, cycling through its four protocols (App
-- Service, IMDS, Cloud Shell, bridge/token), every reply checked: a status other than 200, or a 200
-- without a token, is counted. The endpoint and secret come from the environment as
-- `azurelinux-bridge env` exports them (never from the command line); `done` prints one line:
--   SOAK requests=N duration_us=N non200=N nobody=N connect=N read=N write=N timeout=N p99_us=N max_us=N
-- Usage: IDENTITY_ENDPOINT=... IDENTITY_HEADER=... wrk -s bridge-valid.lua http://127.0.0.1:PORT/
local endpoint = os.getenv("IDENTITY_ENDPOINT") or ""
local secret = os.getenv("IDENTITY_HEADER") or ""
local prefix = endpoint:match("^http://127%.0%.0%.1:%d+(/%x+)/msi/token$")
assert(prefix and secret ~= "", "bridge-valid.lua: IDENTITY_ENDPOINT and IDENTITY_HEADER must be set")
local resource = "https://management.azure.com"
local requests = {}
local threads = {}
non200, nobody, n = 0, 0, 0

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    requests = {
        wrk.format("GET", prefix .. "/msi/token?api-version=2019-08-01&resource=" .. resource,
            { ["X-IDENTITY-HEADER"] = secret }),
        wrk.format("GET", prefix .. "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" .. resource,
            { ["Metadata"] = "true" }),
        wrk.format("POST", prefix .. "/cloudshell/token",
            { ["Metadata"] = "true", ["Content-Type"] = "application/x-www-form-urlencoded" },
            "resource=" .. resource),
        wrk.format("GET", prefix .. "/bridge/token?resource=" .. resource, { ["X-IDENTITY-HEADER"] = secret }),
    }
end

function request()
    n = n + 1
    return requests[n % #requests + 1]
end

function response(status, headers, body)
    if status ~= 200 then
        non200 = non200 + 1
    elseif not (body:find('"access_token":"', 1, true) or body:find('"accessToken":"', 1, true)) then
        nobody = nobody + 1
    end
end

function done(summary, latency, requests)
    local bad, empty = 0, 0
    for _, t in ipairs(threads) do
        bad = bad + t:get("non200")
        empty = empty + t:get("nobody")
    end
    local e = summary.errors
    io.write(string.format(
        "SOAK requests=%d duration_us=%d non200=%d nobody=%d connect=%d read=%d write=%d timeout=%d p99_us=%d max_us=%d\n",
        summary.requests, summary.duration, bad, empty, e.connect, e.read, e.write, e.timeout,
        latency:percentile(99), latency.max))
end
