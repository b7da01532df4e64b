-- wrk script for bench/soak.sh: bench/twilio_load.lua (pre-signed Twilio status callbacks, every
-- answer counted), paced: each connection waits DELAY_MS before each request, so that C
-- connections offer about C * 1000 / DELAY_MS requests a second, whatever smsd's speed (a soak
-- measures a steady offered load, not the most smsd can take).
--
--   wrk -t2 -c64 -d60s --latency -s bench/twilio_soak.lua URL -- REQUESTS_FILE 2 DELAY_MS

local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./"
dofile(dir .. "twilio_load.lua")

local load_init = init
local delay_ms = 0

function init(args)
  delay_ms = tonumber(args[3]) or 0
  if delay_ms < 0 then
    error("twilio_soak.lua: DELAY_MS must not be negative")
  end
  load_init(args)
end

function delay()
  return delay_ms
end
