-- wrk script for bench/ingest.sh: POSTs one realistic ~400-byte JSON message
-- per request to an ingest endpoint and counts answers by status.
--
-- Only 201 counts as an acknowledged (durably stored) message; every other
-- status is counted separately, per status code.
--
-- Environment (read once by every wrk thread):
--   BENCH_INGEST_PATH  /api/ingest/<endpoint id>          (required)
--   BENCH_INGEST_KEY   the endpoint's ingest key          (required)
--   BENCH_RESULT_FILE  where done() writes key=value lines (optional)
--   BENCH_PROTOCOL     native (default), ntfy, gotify or bark: the same
--                      message through a compatible route, as that
--                      protocol's clients send it (their success is 200)
--   BENCH_ENDPOINT_ID  the endpoint id (ntfy's topic; needed for ntfy)

local path = os.getenv("BENCH_INGEST_PATH")
local key = os.getenv("BENCH_INGEST_KEY")
if not path or not key then
  error("BENCH_INGEST_PATH and BENCH_INGEST_KEY must be set")
end

-- A typical alert: ~400 bytes of JSON with title, priority, tags and extras.
local body = '{"title":"disk usage above 90% on db-primary-03",' ..
  '"body":"Filesystem /var/lib/postgresql on db-primary-03.eu-west.example.net is at 91.4% ' ..
  '(182.8 GiB of 200 GiB used). Growth over the last hour: 2.1 GiB. ' ..
  'At this rate the volume is full in about 8 hours.",' ..
  '"group":"infra-alerts","priority":4,"tags":["disk","db","eu-west"],' ..
  '"extras":{"host":"db-primary-03","mount":"/var/lib/postgresql","check":"disk_usage","runbook":"RB-117"}}'

local protocol = os.getenv("BENCH_PROTOCOL") or "native"
local success = 201
local title = "disk usage above 90% on db-primary-03"
local text = "Filesystem /var/lib/postgresql on db-primary-03.eu-west.example.net is at 91.4% " ..
  "(182.8 GiB of 200 GiB used). Growth over the last hour: 2.1 GiB. " ..
  "At this rate the volume is full in about 8 hours."

wrk.method = "POST"
wrk.path = path
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Beacon-Ingest-Key"] = key
wrk.headers["User-Agent"] = "beacon-bench/1 (wrk)"

if protocol == "ntfy" then
  local topic = os.getenv("BENCH_ENDPOINT_ID") or error("BENCH_ENDPOINT_ID must be set for ntfy")
  success = 200
  wrk.path = "/compat/ntfy/" .. topic
  wrk.body = text
  wrk.headers["X-Beacon-Ingest-Key"] = nil
  wrk.headers["Content-Type"] = "text/plain"
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["X-Title"] = title
  wrk.headers["X-Priority"] = "high"
  wrk.headers["X-Tags"] = "disk,db,eu-west"
elseif protocol == "gotify" then
  success = 200
  wrk.path = "/compat/gotify/message"
  wrk.body = '{"title":"' .. title .. '","message":"' .. text .. '","priority":8}'
  wrk.headers["X-Beacon-Ingest-Key"] = nil
  wrk.headers["X-Gotify-Key"] = key
elseif protocol == "bark" then
  success = 200
  wrk.path = "/compat/bark/push"
  wrk.body = '{"device_key":"' .. key .. '","title":"' .. title .. '","body":"' .. text ..
    '","group":"infra-alerts","level":"timeSensitive"}'
  wrk.headers["X-Beacon-Ingest-Key"] = nil
elseif protocol ~= "native" then
  error("BENCH_PROTOCOL must be native, ntfy, gotify or bark")
end

-- Per-thread counters (each wrk thread has its own Lua state).
created = 0
other = 0
statuses = {}

function response(status, headers, resp_body)
  if status == success then
    created = created + 1
  else
    other = other + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

-- Main-state side: keep the thread handles to sum their counters in done().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local total_created, total_other = 0, 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    total_created = total_created + thread:get("created")
    total_other = total_other + thread:get("other")
    local s = thread:get("statuses")
    for code, n in pairs(s) do
      by_status[code] = (by_status[code] or 0) + n
    end
  end
  local codes = {}
  for code, n in pairs(by_status) do
    table.insert(codes, code .. ":" .. n)
  end
  table.sort(codes)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local lines = {
    "duration_s=" .. string.format("%.3f", seconds),
    "requests=" .. summary.requests,
    "created=" .. total_created,
    "non_201=" .. total_other,
    "non_201_by_status=" .. (#codes > 0 and table.concat(codes, ",") or "none"),
    "socket_errors=" .. (e.connect + e.read + e.write + e.timeout),
    "socket_errors_detail=connect:" .. e.connect .. ",read:" .. e.read .. ",write:" .. e.write .. ",timeout:" .. e.timeout,
    "acked_per_s=" .. string.format("%.0f", total_created / seconds),
    "p50_ms=" .. string.format("%.2f", latency:percentile(50) / 1000),
    "p90_ms=" .. string.format("%.2f", latency:percentile(90) / 1000),
    "p99_ms=" .. string.format("%.2f", latency:percentile(99) / 1000),
    "max_ms=" .. string.format("%.2f", latency.max / 1000),
  }
  local text = table.concat(lines, "\n") .. "\n"
  io.write("-- beacon ingest bench --\n" .. text)
  local file_name = os.getenv("BENCH_RESULT_FILE")
  if file_name and file_name ~= "" then
    local f = assert(io.open(file_name, "w"))
    f:write(text)
    f:close()
  end
end
