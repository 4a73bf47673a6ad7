-- One page of a tenant's job ids, newest first, after a cursor; atomic, so jobs created
-- meanwhile cannot shift the page. A cursor no longer in the index (its job was removed) is
-- placed by its creation time, ties by id as ZREVRANGE orders them.
--   KEYS[1]  the tenant's job index ({fluxq}:tenant-jobs:<tenant>, scored by creation ms)
--   ARGV[1]  cursor job id ('' = from the newest)
--   ARGV[2]  count
--   ARGV[3]  the cursor's creation ms
-- Returns the ids.
local count = tonumber(ARGV[2])
local start = 0
if ARGV[1] ~= '' then
  local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
  if rank then
    start = rank + 1
  else
    start = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[3], '+inf')
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[3], ARGV[3])) do
      if id > ARGV[1] then start = start + 1 end
    end
  end
end
return redis.call('ZREVRANGE', KEYS[1], start, start + count - 1)
