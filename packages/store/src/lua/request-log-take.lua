-- One request against a tenant's sliding-window rate limit. The log holds one member per
-- request let through in the last window (score = Redis server time, ms), so every API process
-- counts against the same window and clocks of different hosts never disagree. A refused request
-- is not logged: a client that keeps hammering gets through as soon as the window has room.
--   KEYS[1]  the tenant's log ({fluxq}:ratelimit:<tenant>)
--   ARGV[1]  limit (requests per window)
--   ARGV[2]  window, ms
--   ARGV[3]  a unique member suffix
-- Returns {allowed (0|1), remaining, ms until the oldest logged request leaves the window}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], window)
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, math.max(0, limit - count), reset}
