-- Included by the scripts that keep rolling-window counters (windowed-counts.ts): no KEYS or
-- ARGV of its own.
-- window_sums(key, current, buckets) sums the windowed fields `<name>:<bucket>` of hash `key` by
-- name over the buckets current − buckets + 1 … current, and deletes those older than the window
-- (this is the only pruning they get). Fields from a bucket after `current` (another host's clock
-- running ahead) are kept but not counted yet. Other fields of the hash (no `:<digits>` suffix)
-- are left alone. `key` must be one of the calling script's KEYS.
local function window_sums(key, current, buckets)
  local sums = {}
  local oldest = current - buckets + 1
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    local name, bucket = string.match(fields[i], '^(%a+):(%d+)$')
    if bucket then
      bucket = tonumber(bucket)
      if bucket < oldest then
        redis.call('HDEL', key, fields[i])
      elseif bucket <= current then
        sums[name] = (sums[name] or 0) + tonumber(fields[i + 1])
      end
    end
  end
  return sums
end
