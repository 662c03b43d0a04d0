-- wrk scenario: single-row autocommit INSERT.
-- POST /v2/pipeline inserting one row with a random text value into
-- log(id INTEGER PRIMARY KEY, v TEXT); every request is its own transaction.
--   wrk -t2 -c64 -d10s --latency -s insert.lua http://127.0.0.1:8080/v2/pipeline
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local headers

local prefix = '{"baton":null,"requests":[{"type":"execute","stmt":{"sql":'
  .. '"INSERT INTO log(v) VALUES (?)","args":[{"type":"text","value":"'
local suffix = '"}]}},{"type":"close"}]}'

setup = common.setup
response = common.response
done = common.done

function init(args)
  headers = common.init(args)
end

function request()
  -- 32 random hex characters.
  local v = string.format("%08x%08x%08x%08x",
    math.random(0, 0x7fffffff), math.random(0, 0x7fffffff),
    math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  return wrk.format("POST", common.path, headers, prefix .. v .. suffix)
end
