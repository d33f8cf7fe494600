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

// The server's clock, in ms with microseconds. A script may write after
// reading TIME because Redis 5+ replicates its effects, not the script (the
// default there; calling redis.replicate_commands() here doubled the cost).
// KEEPTTL needs Redis 6.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/**
 * The token bucket as GCRA: the key holds one number, the server time (ms) at
 * which its bucket is full again. ARGV: per (ms one token takes to come
 * back), capacity (burst * per), tokens, take (1 takes, 0 only reports).
 * Returns { allowed (1/0), remaining (whole tokens), resetMs (rounded up),
 * retryAfterMs (rounded up, 0 when allowed) }.
 *
 * The key's TTL is kept at least the time until its bucket is full again
 * (then its absence means full): it is set to the full refill time only when
 * it falls short, so most takes write one value and no expiry. A number
 * passed to redis.call is written with 17 significant digits: exact.
 */
export const TOKEN_BUCKET: LuaScript = script(`${NOW}
local per = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local full = tonumber(redis.call('GET', KEYS[1]))
if full == nil or full < now then full = now end
local owed = full - now
local after = owed + tonumber(ARGV[3]) * per
if after > capacity + per * 1e-9 then
  return { 0, math.floor((capacity - owed) / per + 1e-9), math.ceil(owed), math.ceil(after - capacity) }
end
if ARGV[4] == '1' then
  owed = after
  redis.call('SET', KEYS[1], now + owed, 'KEEPTTL')
  if redis.call('PTTL', KEYS[1]) < owed then redis.call('PEXPIRE', KEYS[1], math.ceil(capacity)) end
end
return { 1, math.floor((capacity - owed) / per + 1e-9), math.ceil(owed), 0 }
`);

/**
 * The sliding window in its two-window approximation (as the core's): the
 * key is a hash of the current window's index (`w`, on the server's clock),
 * the previous window's count (`p`) and the current one's (`c`). ARGV: limit,
 * interval, tokens, take (1/0). Same reply as {@link TOKEN_BUCKET}. The key
 * expires when its counts no longer matter (the end of the window after the
 * last take's); the expiry is written once per window.
 */
export const SLIDING_WINDOW: LuaScript = script(`${NOW}
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local index = math.floor(now / interval)
local into = now - index * interval
local h = redis.call('HMGET', KEYS[1], 'w', 'p', 'c')
local w = tonumber(h[1])
local p = 0
local c = 0
if w == index then
  p = tonumber(h[2])
  c = tonumber(h[3])
elseif w == index - 1 then
  p = tonumber(h[3])
end
local share = p * ((interval - into) / interval)
if share + c + tokens > limit + 1e-9 then
  local room = limit - tokens - c
  local at
  if room >= 0 then
    at = ((p - room) * interval) / p
  else
    at = interval + ((c - (limit - tokens)) * interval) / c
  end
  local reset = 0
  if c > 0 then reset = 2 * interval - into elseif p > 0 then reset = interval - into end
  local left = math.floor(limit - share - c + 1e-9)
  if left < 0 then left = 0 end
  return { 0, left, math.ceil(reset), math.max(1, math.ceil(at - into)) }
end
if ARGV[4] == '1' then
  c = c + tokens
  if w == index then
    redis.call('HSET', KEYS[1], 'c', c)
  else
    redis.call('HSET', KEYS[1], 'w', index, 'p', p, 'c', c)
  end
  local need = 2 * interval - into
  if redis.call('PTTL', KEYS[1]) < need then redis.call('PEXPIRE', KEYS[1], math.ceil(need) + 1) end
end
local left = math.floor(limit - share - c + 1e-9)
if left < 0 then left = 0 end
local reset = 0
if c > 0 then reset = 2 * interval - into elseif p > 0 then reset = interval - into end
return { 1, left, math.ceil(reset), 0 }
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
