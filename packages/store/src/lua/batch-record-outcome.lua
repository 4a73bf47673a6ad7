-- Counts one job's terminal outcome in its batch, once (the counted set), however often it is
-- reported; the call whose count finishes the batch is told the transition.
--   KEYS[1]  the batch hash ({fluxq}:batch:<id>)
--   KEYS[2]  the counted set ({fluxq}:batch:<id>:counted)
--   ARGV[1]  job id
--   ARGV[2]  outcome: succeeded | failed | canceled (the hash field counted)
--   ARGV[3]  cost, integer micro-USD (added for succeeded)
--   ARGV[4]  now, unix s
--   ARGV[5]  TTL of the counted set, s
-- Returns {counted (0|1), transition ('' | 'completed' | 'cancelled')}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return {0, ''} end
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if ARGV[2] == 'succeeded' then redis.call('HINCRBY', KEYS[1], 'cost_micros', ARGV[3]) end
return {1, finishIfDone(ARGV[4])}
