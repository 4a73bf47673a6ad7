-- A request succeeded: counted in the window; a half-open breaker closes. Includes
-- window-sums.lua and breaker-prelude.lua.
--   KEYS[1]  the breaker hash ({fluxq}:breaker:<key>)
--   ARGV[1]  now, ms
--   ARGV[2]  current bucket of the rolling window
--   ARGV[3]  buckets in the window
--   ARGV[4]  how long to keep the hash past openUntil, ms
-- Returns {state after, state before when this call changed it, else ''}.
if state == 'open' then
  if now < open_until then return {'open', ''} end
  redis.call('DEL', key)
  return {'closed', 'half-open'}
end
window_sums(key, current, buckets)
redis.call('HINCRBY', key, 'ok:' .. ARGV[2], 1)
redis.call('HDEL', key, 'streak')
touch()
return {'closed', ''}
