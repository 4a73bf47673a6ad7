-- Extends leases that are still held (a holder renews its slots, or its running-job leases,
-- every 10 s); a lease taken back meanwhile (expired) is not re-created, and is reported.
--   KEYS[1]  the leases (zset: {fluxq}:fal:slots or {fluxq}:sched:tenant-leases), lease -> expiry ms
--   ARGV[1]  the new expiry, ms
--   ARGV[2..] lease ids (slot leases, or "<tenant>\0<job id>" running-job leases)
-- Returns the lease ids no longer held.
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
  else lost[#lost + 1] = ARGV[i] end
end
return lost
