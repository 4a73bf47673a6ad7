-- Creates a webhook delivery unless it exists (ids derive from the job or batch and the event,
-- so emitting an event twice is one delivery), with its tenant and job index entries.
--   KEYS[1]  the delivery hash ({fluxq}:webhook-delivery:<id>)
--   KEYS[2]  the tenant's deliveries ({fluxq}:webhook-deliveries:<tenant>, score = created ms)
--   KEYS[3]  the job's deliveries ({fluxq}:job-webhooks:<job id>)
--   ARGV[1]  delivery id
--   ARGV[2]  created, ms
--   ARGV[3]  retention, seconds
--   ARGV[4..] field / value pairs (JSON values)
-- Returns 1 when created, 0 when it existed.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
