-- Included by every circuit breaker script (circuit-breaker.ts), after window-sums.lua: reads the
-- KEYS and ARGV they all start with, and the breaker's state.
--   KEYS[1]  the breaker hash ({fluxq}:breaker:<key>)
--   ARGV[1]  now, ms
--   ARGV[2]  current bucket of the rolling window
--   ARGV[3]  buckets in the window
--   ARGV[4]  how long to keep the hash past openUntil, ms
-- Hash fields: `state` ('open' or absent = closed), `openUntil`, `openMs` (the period, for doubling),
-- `reason`, `probeUntil` (the half-open probe's lease), `streak`, and windowed `ok:<bucket>`,
-- `fail:<bucket>` counts.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local current = tonumber(ARGV[2])
local buckets = tonumber(ARGV[3])
local keep_ms = tonumber(ARGV[4])
local function int(x) return string.format('%d', x) end
local function touch()
  local open_until = tonumber(redis.call('HGET', key, 'openUntil') or '0')
  redis.call('PEXPIRE', key, int(math.max(open_until - now, 0) + keep_ms))
end
-- Opens until open_until with 'period' remembered for doubling; clears the window and any probe lease.
local function open(open_until, period, reason)
  redis.call('DEL', key)
  redis.call('HSET', key, 'state', 'open', 'openUntil', int(open_until), 'openMs', int(period), 'reason', reason)
  touch()
end
local state = redis.call('HGET', key, 'state')
local open_until = tonumber(redis.call('HGET', key, 'openUntil') or '0')
