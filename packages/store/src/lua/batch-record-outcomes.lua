-- Counts many jobs' outcome in their batch at once, each once (no cost: not for succeeded).
--   KEYS[1]  the batch hash ({fluxq}:batch:<id>)
--   KEYS[2]  the counted set ({fluxq}:batch:<id>:counted)
--   ARGV[1]  outcome: failed | canceled (the hash field counted)
--   ARGV[2]  now, unix s
--   ARGV[3]  TTL of the counted set, s
--   ARGV[4..] job ids
-- Returns {jobs newly counted, transition ('' | 'completed' | 'cancelled')}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end
local added = 0
for i = 4, #ARGV do added = added + redis.call('SADD', KEYS[2], ARGV[i]) end
if added == 0 then return {0, ''} end
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('HINCRBY', KEYS[1], ARGV[1], added)
return {added, finishIfDone(ARGV[2])}
