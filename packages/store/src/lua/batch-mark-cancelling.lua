-- in_progress -> cancelling (or cancelled when nothing is left to count); a batch left in
-- cancelling is listed until its jobs are all canceled.
--   KEYS[1]  the batch hash ({fluxq}:batch:<id>)
--   KEYS[2]  the counted set ({fluxq}:batch:<id>:counted)
--   KEYS[3]  the batches being cancelled ({fluxq}:batches:cancelling, score = ms the cancel began)
--   ARGV[1]  now, unix s
--   ARGV[2]  batch id
--   ARGV[3]  now, ms
-- Returns {status after ('' = no such batch), transition ('' | 'cancelled')}.
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'', ''} end
if status ~= 'in_progress' then return {status, ''} end
redis.call('HSET', KEYS[1], 'status', 'cancelling')
local t = finishIfDone(ARGV[1])
if t == '' then redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[2]) end
return {redis.call('HGET', KEYS[1], 'status'), t}
