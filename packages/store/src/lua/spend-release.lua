-- Gives a spend reservation back, unless the day's counter is gone (expired): a DECRBY would
-- then leave a negative counter without a TTL.
--   KEYS[1]  the day's counter ({fluxq}:spend:<tenant>:<YYYY-MM-DD>)
--   ARGV[1]  amount, micro-dollars
-- Returns the counter after, or 0 when it was gone.
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECRBY', KEYS[1], ARGV[1]) end
return 0
