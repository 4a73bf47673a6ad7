-- Adds a request's price to a tenant's spend for the day unless that would pass the cap.
--   KEYS[1]  the day's counter ({fluxq}:spend:<tenant>:<YYYY-MM-DD>), integer micro-dollars
--   ARGV[1]  amount, micro-dollars
--   ARGV[2]  cap, micro-dollars
--   ARGV[3]  the counter's TTL, seconds
-- Returns {1, spent after} when reserved, {0, spent} when refused.
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if spent + amount > tonumber(ARGV[2]) then return {0, spent} end
spent = redis.call('INCRBY', KEYS[1], amount)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, spent}
