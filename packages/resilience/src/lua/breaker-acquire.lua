-- May a request go to fal? Closed: yes. Open: no, until openUntil. Past it (half-open): one
-- probe at a time, under a lease. Includes window-sums.lua and breaker-prelude.lua.
--   KEYS[1]  the breaker hash ({fluxq}:breaker:<key>)
--   ARGV[1]  now, ms
--   ARGV[2]  current bucket of the rolling window
--   ARGV[3]  buckets in the window
--   ARGV[4]  how long to keep the hash past openUntil, ms
--   ARGV[5]  probe lease, ms
--   ARGV[6]  base open period, ms
-- Returns {1, probe} when allowed (probe 1 = this call holds the probe), {0, state, retryAt} when refused.
if state ~= 'open' then return {1, 0} end
if now < open_until then return {0, 'open', int(open_until)} end
local probe_until = tonumber(redis.call('HGET', key, 'probeUntil') or '0')
if now < probe_until then
  -- Ask again when the probe's lease ends, or sooner: a probe usually settles well before.
  return {0, 'half-open', int(math.min(probe_until, now + tonumber(ARGV[6])))}
end
redis.call('HSET', key, 'probeUntil', int(now + tonumber(ARGV[5])))
touch()
return {1, 1}
