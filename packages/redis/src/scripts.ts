import { createHash } from 'node:crypto';

/**
 * A Lua script with its SHA-1, computed once, so a call sends `EVALSHA` and
 * the script text only after a `NOSCRIPT` (a fresh or restarted server).
 * Every key a script touches is in `KEYS` and every value in `ARGV`: nothing
 * from the caller is ever spliced into the script text.
 */
export interface LuaScript {
  /** The script text. */
  readonly source: string;
  /** Its SHA-1 in lowercase hex, as `EVALSHA` wants it. */
  readonly sha: string;
}

function script(source: string): LuaScript {
  return Object.freeze({ source, sha: createHash('sha1').update(source).digest('hex') });
}

// The server's clock, in ms with microseconds. Before Redis 5 a script that
// reads TIME may only write with effects replication; on 5+ this is a no-op.
const NOW = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/**
 * The token bucket as GCRA: the key holds one number, the server time (ms) at
 * which its bucket is full again. ARGV: rate, interval, burst, tokens, take
 * (1 takes, 0 only reports). Returns { allowed (1/0), remaining (whole
 * tokens), resetMs (rounded up), retryAfterMs (rounded up, 0 when allowed) }.
 * The key expires when the bucket is full again (then its absence means full).
 */
export const TOKEN_BUCKET: LuaScript = script(`${NOW}
local rate = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local per = interval / rate
local capacity = burst * per
local eps = per * 1e-9
local full = tonumber(redis.call('GET', KEYS[1]))
if full == nil or full < now then full = now end
local nextFull = full + tokens * per
local allowed = 0
local retryAfter = 0
if nextFull - now <= capacity + eps then
  allowed = 1
  if ARGV[5] == '1' then
    full = nextFull
    redis.call('SET', KEYS[1], string.format('%.17g', full), 'PX', math.max(1, math.ceil(full - now)))
  end
else
  retryAfter = math.max(1, math.ceil(nextFull - now - capacity))
end
local remaining = math.floor((capacity - (full - now)) / per + 1e-9)
if remaining < 0 then remaining = 0 end
return { allowed, remaining, math.ceil(full - now), retryAfter }
`);

/**
 * The sliding window in its two-window approximation (as the core's): the
 * key is a hash of the current window's index (`w`, on the server's clock),
 * the previous window's count (`p`) and the current one's (`c`). ARGV: limit,
 * interval, tokens, take (1/0). Same reply as {@link TOKEN_BUCKET}. The key
 * expires when its counts no longer matter (two windows after the last take).
 */
export const SLIDING_WINDOW: LuaScript = script(`${NOW}
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local index = math.floor(now / interval)
local into = now - index * interval
local h = redis.call('HMGET', KEYS[1], 'w', 'p', 'c')
local w = tonumber(h[1])
local p = tonumber(h[2]) or 0
local c = tonumber(h[3]) or 0
if w == nil then
  p = 0
  c = 0
elseif index > w then
  if index - w == 1 then p = c else p = 0 end
  c = 0
end
local share = p * ((interval - into) / interval)
local allowed = 0
local retryAfter = 0
if share + c + tokens <= limit + 1e-9 then
  allowed = 1
  if ARGV[4] == '1' then
    c = c + tokens
    redis.call('HSET', KEYS[1], 'w', index, 'p', p, 'c', c)
    redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(2 * interval - into)))
    share = p * ((interval - into) / interval)
  end
else
  local room = limit - tokens - c
  local at
  if room >= 0 then
    at = ((p - room) * interval) / p
  else
    at = interval + ((c - (limit - tokens)) * interval) / c
  end
  retryAfter = math.max(1, math.ceil(at - into))
end
local remaining = math.floor(limit - share - c + 1e-9)
if remaining < 0 then remaining = 0 end
local reset = 0
if c > 0 then reset = 2 * interval - into elseif p > 0 then reset = interval - into end
return { allowed, remaining, math.ceil(reset), retryAfter }
`);

/**
 * Takes a lease of a distributed bulkhead: drops expired leases, then adds
 * `ARGV[3]` (scored with its expiry on the server's clock) when fewer than
 * `ARGV[1]` are held. ARGV: maxConcurrent, leaseMs, lease id. Returns
 * { acquired (1/0), leases held now }. The key expires with its last lease.
 */
export const ACQUIRE: LuaScript = script(`${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.17g', now))
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[1]) then return { 0, held } end
local leaseMs = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], string.format('%.17g', now + leaseMs), ARGV[3])
if redis.call('PTTL', KEYS[1]) < leaseMs then redis.call('PEXPIRE', KEYS[1], math.ceil(leaseMs)) end
return { 1, held + 1 }
`);

/**
 * Extends the leases named in `ARGV[2..]` that are still held by `ARGV[1]` ms
 * from now. Returns the ids that were no longer held (expired, and possibly
 * taken by someone else).
 */
export const RENEW: LuaScript = script(`${NOW}
local leaseMs = tonumber(ARGV[1])
local expiry = string.format('%.17g', now + leaseMs)
local lost = {}
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) > now then
    redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i])
  else
    if score then redis.call('ZREM', KEYS[1], ARGV[i]) end
    lost[#lost + 1] = ARGV[i]
  end
end
if redis.call('PTTL', KEYS[1]) < leaseMs then redis.call('PEXPIRE', KEYS[1], math.ceil(leaseMs)) end
return lost
`);

/** Counts the leases held now (expired ones are dropped first). */
export const COUNT: LuaScript = script(`${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.17g', now))
return redis.call('ZCARD', KEYS[1])
`);

/** Gives back the leases named in `ARGV`. Returns how many were held. */
export const RELEASE: LuaScript = script(`return redis.call('ZREM', KEYS[1], unpack(ARGV))`);
