-- wrk script for bench_load.py: POST /api/v1/cases with the bodies of $JIESU_BODIES (one JSON
-- object a line, cycled), a bearer token from $JIESU_TOKEN and a fresh Idempotency-Key per
-- request ("<run>-<thread>-<n>", run given after `--`). Prints one JSON line when done.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  run = args[1] or "run"
  token = os.getenv("JIESU_TOKEN")
  bodies, n, i = {}, 0, 0
  for line in io.lines(os.getenv("JIESU_BODIES")) do
    n = n + 1
    bodies[n] = line
  end
  -- Threads start at different bodies, so they do not send the same text at the same moment.
  i = (thread_no - 1) * 997
  codes = {}
end

function request()
  i = i + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("%s-%d-%d", run, thread_no, i),
  }
  return wrk.format("POST", "/api/v1/cases", headers, bodies[(i % n) + 1])
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local parts = {}
  for _, t in ipairs(threads) do
    for status, count in pairs(t:get("codes")) do
      parts[status] = (parts[status] or 0) + count
    end
  end
  local out = {}
  for status, count in pairs(parts) do
    table.insert(out, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "codes": {%s}, "errors": {"connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, ' ..
    '"p95": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, table.concat(out, ", "), e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
