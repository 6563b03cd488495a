/**
 * The budget's server-side scripts. Each runs atomically in Redis (a script is one command), reads the
 * time from the server (`TIME`), never from a client, and touches exactly one key: the model's state
 * hash, so the budget works unchanged on Redis Cluster and Valkey.
 *
 * The algorithm is GCRA (the generic cell rate algorithm: a token bucket kept as one "theoretical
 * arrival time" per limit) over two dimensions at once, requests and tokens per minute, as in the
 * per-process `RateLimiter` and in redis-cell's `CL.THROTTLE`. A request is admitted at the first time
 * both buckets hold it, and *both* are charged in the same script, so no process can slip between the
 * two checks. The admission time may lie ahead (a booked slot, at most `maxAheadMs` ahead): the caller
 * is told "send at t" rather than rejected, and callers booked one after another are spaced by the
 * algorithm itself, with no thundering herd after a pause.
 *
 * Hash fields (numbers as decimal strings; every time is the server's epoch ms):
 *   rl, tl  the limits learned from headers (requests/min, tokens/min)
 *   rt, tt  the requests and tokens buckets' theoretical arrival times
 *   pu      paused until (a 429's retry-after, for every process)
 *   pr      the probe's end: while no limit is known, one request goes alone until then
 *   rs, ts  the corrections applied to rt and tt so far (ms, summed), so that one reading is never applied
 *           twice: a reading taken after a correction already includes it
 *   rb, tb  the burst windows learned from headers (ms): the largest `remaining × interval + reset` seen,
 *           a lower bound of the server's bucket size (forgotten when the limit changes); each bucket
 *           is paced with its own
 *   cr, cn  the charge ratio learned from the tokens readings (tokens the server charges per token
 *           estimated; 1 until learned) and how many samples made it; it outlives a run (`stateTtlMs`)
 *   tc, tz  every tokens booking so far, summed (ms), and where the current tokens backlog began
 *   ce, cw, co  the error the readings showed since the last sample, `tc` at that sample, and the lead
 *           the last reading left (see OBSERVE)
 * @see https://brandur.org/rate-limiting (GCRA)
 * @see https://github.com/brandur/redis-cell (GCRA as one atomic Redis command)
 * @see https://redis.io/docs/latest/develop/interact/programmability/eval-intro/ (scripts are atomic; TIME in scripts)
 */
import { createHash } from 'node:crypto';

/** A Lua script and its SHA-1 (for `EVALSHA`). */
export interface Script {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

/** A script from its full Lua source. */
export function defineScript(name: string, lua: string): Script {
  return Object.freeze({ name, lua, sha: createHash('sha1').update(lua).digest('hex') });
}

/** A budget script: `body` runs after the shared preamble (server time in `now`, the key in `k`, `expire(ttl)`). */
function script(name: string, body: string): Script {
  // Redis before 5 needs effect replication to write after TIME; later versions always replicate
  // effects (and deprecate the call), so it is made only where it exists.
  const lua = `if redis.replicate_commands then pcall(redis.replicate_commands) end
-- 17 significant digits: a tokens interval at 150M TPM is 0.0004 ms and must survive the round trip.
local function fmt(x) return string.format('%.17g', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local k = KEYS[1]
local function expire(ttl)
  local s = redis.call('HMGET', k, 'rt', 'tt', 'pu', 'pr')
  local last = now
  for i = 1, 4 do local v = tonumber(s[i]); if v and v > last then last = v end end
  redis.call('PEXPIRE', k, math.ceil(last - now + ttl))
end
${body}`;
  return defineScript(name, lua);
}

/** The share of a learned burst window that is used (see ACQUIRE). */
const SHARE = 0.8;
/** The share of the tokens window used until the charge ratio is learned (see ACQUIRE). */
const FIRST_SHARE = 0.6;
/**
 * How far ahead of the server's reading the tokens bucket may stay before a reading moves it back, as a
 * share of the learned window (5 %: 50 ms of a 1 s window). A reading is measured from the planned send,
 * and a request that goes out a few ms late makes the server look that much less busy than it is; a
 * request booked earlier that reaches the server after this one makes it look a whole request less
 * busy. Keeping this much of a lead (and never more) costs nothing once the buckets are full (the rate is
 * the same), and the noise of the server's charge no longer ratchets the bucket ahead without bound.
 */
const LEAD = 0.05;

/**
 * ARGV: tokens, minTokens, rpm (0: learned), tpm (0: learned), burstMs (-1: learned, 1000 until then), capTokens (0: tpm / 10),
 * aheadMs, probeMs, ttlMs.
 * Reply: {'grant', waitMs, reservedTokens, requestIntervalMs, tokenIntervalMs, serverNow, rpm, tpm, rt, tt, rs, ts, tc}
 *   (rt/tt/rs/ts/tc right after this charge, '' when the probe; OBSERVE compares the answer with them;
 *   tokenIntervalMs is per estimated token, the learned charge ratio included, so a refund or a
 *   reconciliation in estimated tokens moves the bucket by what was booked)
 *      | {'wait', retryInMs} | {'too_large', tpm}.
 *
 * The tokens bucket books `reserve × cr` tokens, `cr` being the charge ratio OBSERVE learns from the
 * readings (what the server charges per token this budget estimates; 1 until learned). While a booking
 * continues a backlog (the bucket is not empty at its slot), every estimate error since the backlog began
 * adds up at the slot, so such a slot may lie at most a little ahead of now: none while the ratio is
 * unknown (the first wave is booked no further than the bucket itself), half a window after one sample,
 * two windows after two. The requests bucket counts exactly and keeps `aheadMs`.
 */
export const ACQUIRE = script(
  'acquire',
  `local s = redis.call('HMGET', k, 'rl', 'tl', 'rt', 'tt', 'pu', 'pr', 'rb', 'tb', 'cr', 'cn', 'tz', 'tc')
local rl = tonumber(ARGV[3]); if rl <= 0 then rl = tonumber(s[1]) end
local tl = tonumber(ARGV[4]); if tl <= 0 then tl = tonumber(s[2]) end
local rt = tonumber(s[3]) or 0
local tt = tonumber(s[4]) or 0
local pu = tonumber(s[5]) or 0
local tokens = tonumber(ARGV[1])
local ttl = tonumber(ARGV[9])
if tl and tokens > tl then return {'too_large', fmt(tl)} end
if not rl and not tl then
  -- No limit known anywhere yet: one probe at a time, the others ask again shortly.
  local pr = tonumber(s[6]) or 0
  if pu > now or pr > now then
    local w = pu - now
    if pr > now then w = math.max(w, math.min(pr - now, 100)) end
    return {'wait', fmt(w)}
  end
  redis.call('HSET', k, 'pr', fmt(now + tonumber(ARGV[8])))
  expire(ttl)
  return {'grant', '0', fmt(tokens), '0', '0', fmt(now), '', '', '', '', '', '', ''}
end
-- Each bucket's window: the one learned for it (or the other's, or 1000 ms until one is known). Only
-- ${SHARE * 100} % of a learned window is used: the bound is exact, and a bucket kept at its very edge turns every
-- few ms of timer or network jitter between two sends into a 429 (the rate is the same either way).
local rw, tw, share = 1000, 1000, 1
local burst = tonumber(ARGV[5])
if burst >= 0 then rw = burst; tw = burst
else
  local rb = tonumber(s[7]); local tb = tonumber(s[8])
  if rb or tb then rw = rb or tb; tw = tb or rb; share = ${SHARE} end
end
local cr = tonumber(s[9]) or 1
local cn = tonumber(s[10]) or 0
-- Until the charge ratio is learned, the first wave of tokens is booked against a smaller share: with
-- the server charging 15 % more than estimated, ${SHARE * 100} % of its window is ${SHARE * 115} % of it, and noise does the rest.
local tshare = share
if cn < 1 and share < 1 then tshare = ${FIRST_SHARE} end
local rB = rw * share; local tB = tw * tshare
local ri = 0; if rl then ri = 60000 / rl end
local ti = 0; if tl then ti = 60000 / tl * cr end
local reserve = tokens
if tl then
  local cap = tonumber(ARGV[6]); if cap <= 0 then cap = tl / 10 end
  reserve = math.max(math.min(tonumber(ARGV[2]), tokens), math.min(tokens, cap))
end
local need = reserve * ti
local admit = math.max(now, pu)
if ri > 0 then admit = math.max(admit, rt + ri - math.max(rB, ri)) end
if ti > 0 and reserve > 0 then
  -- A request bigger than the used window keeps the same margin as one within it (the unused share):
  -- the server admits it only into a bucket that is empty, so it waits until ours has been for that long.
  admit = math.max(admit, tt + need - math.max(tB, need - (tw - tB)))
end
local ahead = tonumber(ARGV[7])
if admit - now > ahead then return {'wait', fmt(admit - now - ahead)} end
if ti > 0 and reserve > 0 and tt > admit and admit > now then
  local horizon = 0
  if cn >= 2 then horizon = 2 * tw elseif cn >= 1 then horizon = tw / 2 end
  horizon = math.min(horizon, ahead)
  -- (from then on the slot is within the horizon of now, wherever the backlog began)
  if admit - math.max(tonumber(s[11]) or 0, now) > horizon then return {'wait', fmt(admit - now - horizon)} end
end
local tc = tonumber(s[12]) or 0
if ri > 0 then rt = math.max(rt, admit) + ri end
if ti > 0 then
  -- tz: where the current backlog began; tc: every tokens booking so far, summed (ms), for OBSERVE's samples.
  if tt <= admit then redis.call('HSET', k, 'tz', fmt(admit)) end
  tt = math.max(tt, admit) + need
  tc = tc + need
end
redis.call('HSET', k, 'rt', fmt(rt), 'tt', fmt(tt), 'tc', fmt(tc))
expire(ttl)
local rs = ''; if rl then rs = fmt(rl) end
local ts = ''; if tl then ts = fmt(tl) end
local shifts = redis.call('HMGET', k, 'rs', 'ts')
return {'grant', fmt(admit - now), fmt(reserve), fmt(ri), fmt(ti), fmt(now), rs, ts, fmt(rt), fmt(tt), fmt(tonumber(shifts[1]) or 0), fmt(tonumber(shifts[2]) or 0), fmt(tc)}`,
);

/**
 * Corrects a reservation: ARGV: requestDelta, tokenDelta (units, negative to refund), requestIntervalMs,
 * tokenIntervalMs (those of the grant, so a refund is in the units it was charged in), ttlMs.
 * requestDelta −1 gives a reservation back (never sent, or refused uncharged); 0 reconciles its tokens
 * from `usage`. A bucket never goes below "full" (now), and a key that expired meanwhile is left alone.
 * A reconciliation is also added to the error OBSERVE's next sample sums (`ce`): the reading that follows
 * undoes whatever part of it the server never applied, and the two together are the estimate's error.
 */
export const ADJUST = script(
  'adjust',
  `local s = redis.call('HMGET', k, 'rt', 'tt')
if not s[1] and not s[2] then return 0 end
local function moved(old, d, interval)
  if d >= 0 then return math.max(old, now) + d * interval end
  -- (and a refund never moves it forward: a bucket already behind "now" stays where it is)
  return math.max(old + d * interval, math.min(old, now))
end
local dr = tonumber(ARGV[1]); local dt = tonumber(ARGV[2])
local ri = tonumber(ARGV[3]); local ti = tonumber(ARGV[4])
-- Counted as a correction too: a later reading already includes this request's true cost.
local function apply(field, shiftField, old, d, interval)
  local new = moved(old, d, interval)
  redis.call('HSET', k, field, fmt(new))
  redis.call('HINCRBYFLOAT', k, shiftField, fmt(new - old))
  return new - old
end
if s[1] and ri > 0 and dr ~= 0 then apply('rt', 'rs', tonumber(s[1]), dr, ri) end
if s[2] and ti > 0 and dt ~= 0 then
  local m = apply('tt', 'ts', tonumber(s[2]), dt, ti)
  if dr == 0 then redis.call('HINCRBYFLOAT', k, 'ce', fmt(m))
  elseif dr < 0 then redis.call('HINCRBYFLOAT', k, 'tc', fmt(dt * ti)) end
end
expire(tonumber(ARGV[5]))
return 1`,
);

/**
 * Learns from an answer's headers: ARGV: rpm (0: none), tpm (0: none), requestsResetMs (-1: none),
 * tokensResetMs (-1: none), sentAt (the grant's server time; 0: unknown), ttlMs, requestsRemaining
 * (-1: none), tokensRemaining (-1: none), the grant's rt, tt, rs, ts, tc ('' or -1: unknown), and
 * answeredInMs (from the slot to the answer).
 *
 * The limits are written for every process. With units left, `remaining × interval + reset` is a lower
 * bound of the server's burst window (with none left a large request may have overfilled it, and the sum
 * says nothing); the largest bound seen is kept, at most a minute.
 *
 * The server's bucket right after it admitted the request is at `sentAt + reset`; ours was at the
 * grant's rt/tt, plus every correction made since (rs/ts now minus at the grant). The difference,
 * `behind`, is how far the server is ahead of us. The requests bucket (which counts exactly) moves
 * forward by it, never back. The tokens bucket follows it both ways: forward by all of it, back to
 * within `LEAD` of it (see LEAD). But `reset` is counted from when the request *arrived*, somewhere
 * between its slot and its answer (a busy machine sends late; the server may be slow to read): read
 * from the slot, the server looks less busy than it is by that delay. So a move forward takes the
 * reading at the slot (what is certain), and a move back takes it at the answer (only what is certain
 * even if the request arrived just before its answer). Without the grant's state, a bucket is compared
 * as it is now, and only moves forward.
 *
 * The charge ratio `cr` (tokens charged per token booked) is learned from the same readings, and from
 * nothing else: `ce` sums each reading's new error (its `behind`, plus the lead the last one left, `co`;
 * plus any reconciliation, see ADJUST) until the bookings since the last sample (`tc` now minus `cw`)
 * fill one window; then `cr` moves toward `cr × (1 + ce / booked)` (all the way for the first sample,
 * then by an EWMA weight of 1/2, 1/3, then 0.3), bounded to [0.5, 2].
 */
export const OBSERVE = script(
  'observe',
  `local rl = tonumber(ARGV[1]); local tl = tonumber(ARGV[2])
local limits = {rl, tl}
local names = {{'rl', 'rb'}, {'tl', 'tb'}}
for i = 1, 2 do
  local limit = limits[i]
  if limit > 0 then
    local old = redis.call('HMGET', k, names[i][1], names[i][2])
    local bound = tonumber(old[2]) or 0
    if tonumber(old[1]) ~= limit then bound = 0 end
    local left = tonumber(ARGV[6 + i]); local reset = tonumber(ARGV[2 + i])
    if left > 0 and reset >= 0 then bound = math.min(60000, math.max(bound, left * 60000 / limit + reset)) end
    redis.call('HSET', k, names[i][1], fmt(limit))
    if bound > 0 then redis.call('HSET', k, names[i][2], fmt(bound)) else redis.call('HDEL', k, names[i][2]) end
  end
end
if rl > 0 or tl > 0 then redis.call('HDEL', k, 'pr') end
local sent = tonumber(ARGV[5])
if sent > 0 then
  local fields = {'rt', 'tt'}
  local shiftFields = {'rs', 'ts'}
  local tw = tonumber(redis.call('HGET', k, 'tb')) or 1000
  for i = 1, 2 do
    local reset = tonumber(ARGV[2 + i])
    if reset >= 0 then
      local server = sent + reset
      local cur = redis.call('HMGET', k, fields[i], shiftFields[i])
      local mine = tonumber(cur[1]) or 0
      local shift = tonumber(cur[2]) or 0
      local atGrant = tonumber(ARGV[8 + i]); local shiftAtGrant = tonumber(ARGV[10 + i])
      local own = atGrant and atGrant >= 0 and shiftAtGrant
      local behind = server - mine
      if own then behind = server - atGrant - (shift - shiftAtGrant) end
      local move = 0
      local late = behind + tonumber(ARGV[14])
      if behind > 0 then move = behind
      elseif own and i == 2 and late < -${LEAD} * tw then move = math.max(late + ${LEAD} * tw, math.min(0, now - mine)) end
      if move ~= 0 then
        redis.call('HSET', k, fields[i], fmt(mine + move))
        redis.call('HSET', k, shiftFields[i], fmt(shift + move))
      end
      if own and i == 2 then
        local c = redis.call('HMGET', k, 'ce', 'co', 'cw', 'cr', 'cn')
        local ce = (tonumber(c[1]) or 0) + behind + (tonumber(c[2]) or 0)
        -- The lead left now (ours ahead of the server's, each as it stands now: an empty bucket is empty).
        redis.call('HSET', k, 'co', fmt(math.max(mine + move, now) - math.max(mine + behind, now)))
        local tc = tonumber(ARGV[13])
        local booked = 0
        if tc and tc >= 0 then booked = tc - (tonumber(c[3]) or 0) end
        if booked >= tw then
          local cr = tonumber(c[4]) or 1; local cn = tonumber(c[5]) or 0
          local f = math.min(math.max(1 + ce / booked, 0.75), 1.33)
          local a = math.max(0.3, 1 / (cn + 1))
          cr = math.min(math.max(cr * (1 + a * (f - 1)), 0.5), 2)
          redis.call('HSET', k, 'cr', fmt(cr), 'cn', fmt(cn + 1), 'cw', fmt(tc), 'ce', '0')
        else
          redis.call('HSET', k, 'ce', fmt(ce))
        end
      end
    end
  end
end
expire(tonumber(ARGV[6]))
return 1`,
);

/** Pauses every process: ARGV: ms, ttlMs. */
export const PAUSE = script(
  'pause',
  `local pu = tonumber(redis.call('HGET', k, 'pu')) or 0
local until_ = now + tonumber(ARGV[1])
if until_ > pu then redis.call('HSET', k, 'pu', fmt(until_)) end
expire(tonumber(ARGV[2]))
return 1`,
);
