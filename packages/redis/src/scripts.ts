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
 * How an allowed decision comes back: one integer, `remaining * ARGV[5] +
 * resetMs` (ARGV[5] is a power of two above any `resetMs` the limiter can
 * see, chosen by the client so the sum stays under 2^53), which Redis sends
 * and the client reads without building an array. With ARGV[5] = 0 (a limiter
 * whose numbers would not fit) and for every refusal the reply is the table
 * { allowed (1/0), remaining, resetMs, retryAfterMs }.
 */
const ALLOWED = `
local factor = ARGV[5] + 0
if factor > 0 then return left * factor + reset end
return { 1, left, reset, 0 }
`;

/**
 * The token bucket as GCRA: the key holds the server time (ms) at which its
 * bucket is full again. ARGV: per (ms one token takes to come back), capacity
 * (burst * per), tokens, take (1 takes, 0 only reports), the reply factor
 * (see above). Replies with remaining (whole tokens), resetMs (rounded up) and,
 * when refused, retryAfterMs (rounded up).
 *
 * The value is 16 bytes, two little-endian doubles packed by Lua's `struct`:
 * that time, and the time until which the key is known to live (its TTL was
 * set then). Binary, because writing a double as decimal text (17 significant
 * digits, which an exact round trip needs) was the most expensive step of the
 * old script; the second number replaces a `PTTL` per decision. The TTL is
 * kept at least the time until the bucket is full again (then its absence
 * means full): it is set to the full refill time only when it falls short, so
 * most takes write the value alone (`KEEPTTL`). Any other value is read as
 * the decimal text the previous version wrote (a rolling upgrade keeps its
 * budgets), including 16 characters of it (about one value in a hundred):
 * read as two doubles, such text gives a first one below 2^-95 (its top byte
 * is a digit or '.'), where ours is a server time, so it is read again as
 * text (a comparison, not a function call, on the hot path).
 *
 * A value that is not the limiter's own counts as a full bucket: one that
 * reads as NaN, or whose time is more than 2^54 ms ahead (twice the longest
 * refill a limiter accepts, so no configuration wrote it: infinity, or the
 * doubles of foreign bytes). A time within that but beyond this limiter's
 * full refill (one written under a larger `burst` before the configuration
 * was lowered) is kept: the bucket refuses until it has refilled that far, as
 * before, and reports 0 remaining. A recorded expiry beyond this limiter's
 * full refill from now is not trusted (the TTL is written again), so a key the
 * limiter wrote never lives for ever, even if it held a foreign value with no
 * TTL before.
 *
 * Every allowed decision runs this script, so its arithmetic avoids function
 * calls, which cost more than the arithmetic itself here: strings become
 * numbers by Lua's coercion (`x + 0`, the same conversion as `tonumber`), and
 * for x >= 0, `x - x % 1` is exactly `math.floor(x)` (`x % 1` is
 * `x - floor(x)`, exact for x >= 0) and `owed - owed % 1 + 1` exactly
 * `math.ceil(owed)` when `owed` is not whole. A refusal keeps the plain form.
 */
export const TOKEN_BUCKET: LuaScript = script(`
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local per = ARGV[1] + 0
local capacity = ARGV[2] + 0
local v = redis.call('GET', KEYS[1])
local full = now
local kept = 0
if v then
  if #v == 16 then
    full, kept = struct.unpack('<dd', v)
    -- 16 characters of decimal text (top byte a digit or '.') read as a double below 2^-95: read them as text.
    if not (full >= 1) then full = tonumber(v) or now kept = 0 end
  else full = tonumber(v) or now end
  if not (full >= now) then full = now
  elseif full > now + 18014398509481984 then full = now kept = 0 end
  if not (kept <= now + capacity) then kept = 0 end
end
local owed = full - now
local after = owed + ARGV[3] * per
if after > capacity + per * 1e-9 then
  local left = math.floor((capacity - owed) / per + 1e-9)
  if left < 0 then left = 0 end
  return { 0, left, math.ceil(owed), math.ceil(after - capacity) }
end
if ARGV[4] == '1' then
  owed = after
  local at = now + owed
  if kept >= at then
    redis.call('SET', KEYS[1], struct.pack('<dd', at, kept), 'KEEPTTL')
  else
    local ttl = math.ceil(capacity)
    redis.call('SET', KEYS[1], struct.pack('<dd', at, now + ttl - 1), 'PX', string.format('%d', ttl))
  end
end
local left = (capacity - owed) / per + 1e-9
left = left - left % 1
if left < 0 then left = 0 end
local reset = owed % 1
if reset > 0 then reset = owed - reset + 1 else reset = owed end
${ALLOWED}`);

/**
 * The sliding window in its two-window approximation (as the core's): the
 * key is a hash of the current window's index (`w`, on the server's clock),
 * the previous window's count (`p`) and the current one's (`c`). ARGV: limit,
 * interval, tokens, take (1/0), the reply factor. Same reply as
 * {@link TOKEN_BUCKET}. The key expires when its counts no longer matter (the
 * end of the window after the last take's); the expiry is written by the
 * first take of each window (later takes of the window need no more time than
 * it gave), so the other takes write one field. A hash whose counts no
 * decision writes (missing, not numbers, negative or infinite: not the
 * limiter's own) counts as empty, and the next take writes it afresh with an
 * expiry.
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
  p = tonumber(h[2]) or -1
  c = tonumber(h[3]) or -1
elseif w == index - 1 then
  p = tonumber(h[3]) or -1
end
-- Counts no decision writes (a hash that is not ours): a fresh window, written with its expiry. (Counts above
-- this limit, written before it was lowered, are kept: they refuse, as before.)
if not (p >= 0 and p <= 1e300 and c >= 0 and c <= 1e300) then
  w = nil
  p = 0
  c = 0
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
    redis.call('PEXPIRE', KEYS[1], math.ceil(2 * interval - into) + 1)
  end
end
local left = math.floor(limit - share - c + 1e-9)
if left < 0 then left = 0 end
local reset = 0
if c > 0 then reset = 2 * interval - into elseif p > 0 then reset = interval - into end
reset = math.ceil(reset)
${ALLOWED}`);

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
