-- validating -> in_progress once every job of the batch is enqueued, or straight to completed
-- when its jobs all finished while it was still being enqueued.
--   KEYS[1]  the batch hash ({fluxq}:batch:<id>)
--   KEYS[2]  the counted set ({fluxq}:batch:<id>:counted)
--   ARGV[1]  now, unix s
-- Returns the transition made ('' | 'completed').
if redis.call('HGET', KEYS[1], 'status') ~= 'validating' then return '' end
redis.call('HSET', KEYS[1], 'status', 'in_progress')
return finishIfDone(ARGV[1])
