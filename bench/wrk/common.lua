-- Shared helpers for Quarry's wrk scripts (loaded with dofile by each
-- scenario script; wrk gives every thread its own Lua state, so this runs
-- once per thread plus once in the main state).
--
-- Environment:
--   QUARRY_TOKEN / AUTH_TOKEN  sent as "Authorization: Bearer <token>"
--                              (a value that already starts with "Bearer " or
--                              "Basic " is sent as is). A token can also be
--                              passed as the first script argument:
--                              wrk ... -s point_select.lua URL -- TOKEN
--   BENCH_PATH                 request path; default: the URL's path if it is
--                              not "/", else /v2/pipeline (namespace "default").
--
-- At the end every script prints one machine-readable line:
--   BENCH_RESULT requests=N duration_s=S rps=R p50_ms=.. p99_ms=.. \
--     max_ms=.. non200=N hrana_errors=N socket_errors=N
-- followed by a human-readable summary of the error counters.

local M = {}

local threads = {}
local thread_count = 0

function M.setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

local function auth_header(args)
  local tok = (args and args[1]) or os.getenv("QUARRY_TOKEN") or os.getenv("AUTH_TOKEN")
  if tok == nil or tok == "" then return nil end
  if tok:sub(1, 7) == "Bearer " or tok:sub(1, 6) == "Basic " then return tok end
  return "Bearer " .. tok
end

-- Call from init(args). Returns the headers table to pass to wrk.format.
function M.init(args)
  non200 = 0
  hrana_errors = 0
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  -- Burn a few values: LuaJIT's first draws after seeding are correlated.
  for _ = 1, 8 do math.random() end
  local headers = { ["Content-Type"] = "application/json" }
  local auth = auth_header(args)
  if auth then headers["Authorization"] = auth end
  local p = os.getenv("BENCH_PATH")
  if p == nil or p == "" then
    p = wrk.path
    if p == nil or p == "" or p == "/" then p = "/v2/pipeline" end
  end
  M.path = p
  return headers
end

-- Counts failures with as little work as possible: a plain (non-pattern)
-- substring search only on 200 responses.
function M.response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  elseif body and string.find(body, '"type":"error"', 1, true) then
    hrana_errors = hrana_errors + 1
  end
end

-- JSON string escaping for generated values (only needed for safety; the
-- scripts generate plain ASCII).
function M.json_str(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == '\\' then return '\\\\' end
    return string.format('\\u%04x', c:byte())
  end) .. '"'
end

function M.done(summary, latency, requests)
  local n200, nerr = 0, 0
  for _, t in ipairs(threads) do
    n200 = n200 + (t:get("non200") or 0)
    nerr = nerr + (t:get("hrana_errors") or 0)
  end
  local e = summary.errors
  local sock = e.connect + e.read + e.write + e.timeout
  local dur_s = summary.duration / 1e6
  local rps = 0
  if dur_s > 0 then rps = summary.requests / dur_s end
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f non200=%d hrana_errors=%d socket_errors=%d\n",
    summary.requests, dur_s, rps,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    n200, nerr, sock))
  io.write(string.format(
    "errors: non-200=%d hrana-error=%d socket(connect=%d read=%d write=%d timeout=%d)\n",
    n200, nerr, e.connect, e.read, e.write, e.timeout))
end

return M
