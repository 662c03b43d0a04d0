-- wrk scenario: point select.
-- POST /v2/pipeline that reads one row by a random primary key from
-- kv(id INTEGER PRIMARY KEY, v TEXT), seeded with ids 1..KV_ROWS (10,000).
--   wrk -t2 -c64 -d10s --latency -s point_select.lua http://127.0.0.1:8080/v2/pipeline
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local rows = tonumber(os.getenv("KV_ROWS") or "10000")
local headers

local prefix = '{"baton":null,"requests":[{"type":"execute","stmt":{"sql":'
  .. '"SELECT id, v FROM kv WHERE id = ?","args":[{"type":"integer","value":"'
local suffix = '"}]}},{"type":"close"}]}'

setup = common.setup
response = common.response
done = common.done

function init(args)
  headers = common.init(args)
end

function request()
  local body = prefix .. math.random(1, rows) .. suffix
  return wrk.format("POST", common.path, headers, body)
end
