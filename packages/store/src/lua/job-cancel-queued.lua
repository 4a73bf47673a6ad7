-- A batch's cancel: cancels each of the jobs that is still queued, writing the fields and the
-- event a guarded update to canceled would (job-guarded-update.lua); running or finished jobs are
-- left alone. Reads created_ms and webhook from a field of their own (older records) or from the
-- record's base pieces b0, b1, ... (job-encoding.ts).
--   KEYS[1..n]  the job hashes ({fluxq}:job:<id>)
--   ARGV[1]     the job events channel ({fluxq}:job-events; a channel, not a key)
--   ARGV[2]     now, ms
--   ARGV[3]     the error (JSON)
--   ARGV[4..n+3] the job ids, in the order of KEYS
-- Returns, per canceled job, its id and '1' when it has a webhook, else '0'.
local now = tonumber(ARGV[2])
local canceled = {}
for i = 1, #KEYS do
  if redis.call('HGET', KEYS[i], 'status') == '"queued"' then
    -- created_ms and webhook: fields of their own on older records, else in the base's pieces.
    local pieces, n = {}, 0
    while true do
      local piece = redis.call('HGET', KEYS[i], 'b' .. n)
      if not piece then break end
      n = n + 1
      pieces[n] = piece
    end
    local base = n > 0 and cjson.decode(table.concat(pieces)) or {}
    local created = tonumber(redis.call('HGET', KEYS[i], 'created_ms') or base.created_ms or ARGV[2]) or now
    redis.call('HSET', KEYS[i], 'status', '"canceled"', 'error', ARGV[3],
      'completed_at', string.format('%d', math.floor(now / 1000)),
      'timings', string.format('{"queue_ms":null,"provider_ms":null,"total_ms":%d}', now - created))
    local id = ARGV[i + 3]
    redis.call('PUBLISH', ARGV[1], id .. ' canceled')
    local webhook = redis.call('HGET', KEYS[i], 'webhook')
    local hasWebhook = webhook and webhook ~= 'null'
    if not webhook then hasWebhook = base.webhook ~= nil and base.webhook ~= cjson.null end
    canceled[#canceled + 1] = id
    canceled[#canceled + 1] = hasWebhook and '1' or '0'
  end
end
return canceled
