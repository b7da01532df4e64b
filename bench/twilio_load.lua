-- wrk script for bench/run_twilio_load.sh: replays pre-signed Twilio status callbacks.
--
--   wrk -t2 -c64 -d10s --latency -s bench/twilio_load.lua http://127.0.0.1:PORT -- REQUESTS_FILE 2
--
-- (the last argument repeats wrk's -t: a thread's init() cannot know how many threads there are)
-- REQUESTS_FILE (bench/twilio_callbacks.mjs) holds one request per line, in the order to send:
--   MESSAGE \t PATH \t X-Twilio-Signature \t I-Twilio-Idempotency-Token \t BODY
-- Thread t of T (counting from 0) sends the requests of messages t, t+T, t+2T, ... in the file's
-- order, on whichever of its connections is free, with a counter of its own; once past its last
-- it starts again from its first (a second pass: the same requests, same idempotency tokens, i.e.
-- duplicates smsd must still answer 200). Sharing by message, not by line, keeps each message's
-- `sent` before its outcome whatever the threads' pace: with every T-th line, one thread would
-- send all the `sent`s and the other all the outcomes (the file alternates them), and a thread
-- running ahead of the other would deliver outcomes before their `sent`.
-- Every answer's status is counted. done() prints one "RESULT key=value ..." line: answers,
-- requests/s, latency percentiles, 200s and non-2xx counts by status, requests sent, how many of
-- them were repeats, and wrk's socket errors.

local threads = {}
local thread_count = 0

-- Main state: one call per thread before any starts. Numbers them, and keeps them for done().
function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

-- Thread state ------------------------------------------------------------------------------

local reqs = {}     -- this thread's requests, formatted, in order
local share = 0     -- how many
local next_req = 0  -- the next one to send (0-based; share and beyond: a repeat pass)
-- Before the run, wrk calls request() once in thread 0's state to check that the script's
-- requests parse (script_verify_request, wrk 4.1): that call must not use up a request.
local verified = false
sent = 0            -- read by done() through thread:get
repeats = 0
ok200 = 0
non2xx = 0
statuses = ""       -- "status:count ..." for statuses other than 200

local by_status = {}

function init(args)
  local file, total = args[1], tonumber(args[2])
  if not file or not total then
    error("twilio_load.lua: usage: wrk -tT ... -- REQUESTS_FILE T")
  end
  local index = thread_index -- set by setup() in the main state
  if index >= total then
    error("twilio_load.lua: thread " .. index .. " of " .. total .. ": T differs from wrk's -t")
  end
  verified = index ~= 0
  local host = wrk.headers["Host"]
  local line_no = 0
  for line in io.lines(file) do
    local message = tonumber(line:match("^(%d+)\t"))
    if not message then
      error("twilio_load.lua: malformed line " .. (line_no + 1) .. " of " .. file)
    end
    if message % total == index then
      local path, signature, token, body = line:match("^%d+\t([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]*)$")
      if not path then
        error("twilio_load.lua: malformed line " .. (line_no + 1) .. " of " .. file)
      end
      share = share + 1
      reqs[share] = wrk.format("POST", path, {
        ["Host"] = host,
        ["User-Agent"] = "TwilioProxy/1.1",
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = signature,
        ["I-Twilio-Idempotency-Token"] = token,
      }, body)
    end
    line_no = line_no + 1
  end
  if share == 0 then
    error("twilio_load.lua: " .. file .. " holds no request for thread " .. index)
  end
end

function request()
  if not verified then
    verified = true
    return reqs[1]
  end
  local i = next_req % share
  if next_req >= share then
    repeats = repeats + 1
  end
  next_req = next_req + 1
  sent = sent + 1
  return reqs[i + 1]
end

function response(status, headers, body)
  if status == 200 then
    ok200 = ok200 + 1
    return
  end
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  by_status[status] = (by_status[status] or 0) + 1
  local parts = {}
  for s, n in pairs(by_status) do
    parts[#parts + 1] = s .. ":" .. n
  end
  statuses = table.concat(parts, ",")
end

-- Main state, after the run ------------------------------------------------------------------

function done(summary, latency, requests)
  local total = { sent = 0, repeats = 0, ok200 = 0, non2xx = 0 }
  local other = {}
  for _, t in ipairs(threads) do
    for k in pairs(total) do
      total[k] = total[k] + (t:get(k) or 0)
    end
    local s = t:get("statuses") or ""
    for code, n in s:gmatch("(%d+):(%d+)") do
      other[code] = (other[code] or 0) + tonumber(n)
    end
  end
  local parts = {}
  for code, n in pairs(other) do
    parts[#parts + 1] = code .. ":" .. n
  end
  table.sort(parts)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local function ms(p)
    return string.format("%.2f", latency:percentile(p) / 1000)
  end
  io.write(string.format(
    "RESULT answers=%d seconds=%.2f rps=%.0f p50_ms=%s p90_ms=%s p99_ms=%s p999_ms=%s max_ms=%.2f "
      .. "mean_ms=%.2f ok200=%d non2xx=%d other=%s sent=%d repeats=%d connect_errors=%d "
      .. "read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, secs, summary.requests / secs, ms(50), ms(90), ms(99), ms(99.9),
    latency.max / 1000, latency.mean / 1000, total.ok200, total.non2xx,
    (#parts > 0 and table.concat(parts, ",") or "none"), total.sent, total.repeats,
    e.connect, e.read, e.write, e.timeout))
end
