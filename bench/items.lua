-- wrk script for the database part: `wrk ... URL -- get LOW HIGH` reads GET /items/{id} with
-- a random id in LOW..HIGH (the seeded items); `-- post` writes POST /items with a JSON body;
-- `-- hello` asks the same server for GET /hello, the yardstick the other two are divided by;
-- `-- signin USERNAME PASSWORD` signs in again and again (POST /auth/token). A token as the
-- fourth argument of get or post is sent as a bearer token.
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
  non2xx, fivexx = 0, 0
  math.randomseed(number * 7919 + os.time())
  hello = wrk.format("GET", "/hello")  -- before any token: /hello is public
  if mode == "signin" then
    -- `-- signin USERNAME PASSWORD` (form-encoded already): POST /auth/token, a sign-in each.
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    signin = wrk.format("POST", "/auth/token", nil, "username=" .. args[2] .. "&password=" .. args[3])
    return
  end
  low, high = tonumber(args[2] or "1"), tonumber(args[3] or "1000")
  if args[4] then
    -- A fourth argument is a bearer token, sent with every items request.
    wrk.headers["Authorization"] = "Bearer " .. args[4]
  end
  if mode == "post" then
    wrk.headers["Content-Type"] = "application/json"
    local body = '{"name": "bench item", "description": "written by bench/items.lua"}'
    post = wrk.format("POST", "/items", nil, body)
  end
end

function request()
  if mode == "post" then
    return post
  elseif mode == "signin" then
    return signin
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
