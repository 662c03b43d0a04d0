-- wrk scenario: one fixed JSON request, optionally with a random id in it.
-- POSTs the body read from BENCH_BODY_FILE to the URL's path (a data API operation such as
-- /db/bench/v1/posts/findUnique, or a Hrana pipeline such as /db/bench/v2/pipeline). Every
-- "__ID__" in the body is replaced, per request, by one random integer in 1..BENCH_ID_MAX
-- (the same integer at every place). A body without "__ID__" is sent unchanged every time.
--   BENCH_BODY_FILE=body.json BENCH_ID_MAX=100000 QUARRY_TOKEN=... \
--     wrk -t2 -c64 -d10s --latency -s json_post.lua http://127.0.0.1:8080/db/bench/v1/posts/findUnique
-- Failures are counted as in every script (common.lua): non-200 responses (the data API
-- answers errors with 4xx/5xx) and Hrana "type":"error" results.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local headers
local parts = {}
local fixed
local id_max = tonumber(os.getenv("BENCH_ID_MAX") or "1")

setup = common.setup
response = common.response
done = common.done

function init(args)
  headers = common.init(args)
  local name = os.getenv("BENCH_BODY_FILE")
  if name == nil or name == "" then error("json_post.lua: set BENCH_BODY_FILE") end
  local f = assert(io.open(name, "rb"))
  local body = f:read("*a")
  f:close()
  local start = 1
  while true do
    local s, e = string.find(body, "__ID__", start, true)
    if s == nil then break end
    table.insert(parts, body:sub(start, s - 1))
    start = e + 1
  end
  table.insert(parts, body:sub(start))
  if #parts == 1 then
    fixed = wrk.format("POST", common.path, headers, body)
  end
end

function request()
  if fixed then return fixed end
  local id = tostring(math.random(1, id_max))
  return wrk.format("POST", common.path, headers, table.concat(parts, id))
end
