-- Opens the breaker for a given time (an auth failure, an operator), never shortening an open
-- period already running. Includes window-sums.lua and breaker-prelude.lua.
--   KEYS[1]  the breaker hash ({fluxq}:breaker:<key>)
--   ARGV[1]  now, ms
--   ARGV[2]  current bucket of the rolling window
--   ARGV[3]  buckets in the window
--   ARGV[4]  how long to keep the hash past openUntil, ms
--   ARGV[5]  open for, ms
--   ARGV[6]  reason
--   ARGV[7]  longest open period, ms (the period remembered for doubling)
-- Returns the state before.
local before = 'closed'
if state == 'open' then before = (now < open_until and 'open') or 'half-open' end
local ms = tonumber(ARGV[5])
local until_ms = now + ms
if state == 'open' and open_until > until_ms then until_ms = open_until end
open(until_ms, math.min(ms, tonumber(ARGV[7])), ARGV[6])
return before
