-- wrk script for the database part: `wrk ... URL -- get LOW HIGH` reads GET /items/{id} with
-- a random id in LOW..HIGH (the seeded items); `-- post` writes POST /items with a JSON body;
-- `-- hello` asks the same server for GET /hello, the yardstick the other two are divided by.
-- After the run it prints one JSON line, report.lua's numbers plus the responses that were not
-- 2xx (wrk itself only counts statuses above 399) and the 5xx among them.

local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("number", count)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "get"
  low, high = tonumber(args[2] or "1"), tonumber(args[3] or "1000")
  non2xx, fivexx = 0, 0
  math.randomseed(number * 7919 + os.time())
  if mode == "post" then
    wrk.headers["Content-Type"] = "application/json"
    local body = '{"name": "bench item", "description": "written by bench/items.lua"}'
    post = wrk.format("POST", "/items", nil, body)
  end
  hello = wrk.format("GET", "/hello")
end

function request()
  if mode == "post" then
    return post
  elseif mode == "hello" then
    return hello
  end
  return wrk.format("GET", "/items/" .. math.random(low, high))
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if status > 499 then
      fivexx = fivexx + 1
    end
  end
end

done = function(summary, latency, requests)
  local bad, server = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    server = server + thread:get("fivexx")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, '
    .. '"non2xx": %d, "5xx": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, bad, server))
end
