/**
 * The state changes that must be atomic, as Lua scripts. Redis runs a script without interleaving any
 * other command, which is what makes chaining race-free: a child either sees its parent already ended
 * (ATTACH_CHILD returns the status) or is in the children set that FINISH returns.
 */

const TERMINAL = `local function terminal(st) return st == 'COMPLETE' or st == 'FAILED' or st == 'CANCELLED' end`;

/**
 * KEYS: task hash, children set, waiting set, log stream, running set.
 * ARGV: id, status, finishedAt, ifWorker ('' = anyone), log maxlen, then field/value pairs.
 * Ends a task unless it already ended (first writer wins); with ifWorker only while that worker runs it.
 * Returns the children to cascade to, or nil when nothing changed.
 */
export const FINISH = `${TERMINAL}
local st = redis.call('HGET', KEYS[1], 'status')
if not st or terminal(st) then return false end
if ARGV[4] ~= '' and (st ~= 'RUNNING' or redis.call('HGET', KEYS[1], 'worker') ~= ARGV[4]) then return false end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'finishedAt', ARGV[3])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HDEL', KEYS[1], 'cancelRequested')
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', 's', 'eof', 'l', ARGV[2])
return redis.call('SMEMBERS', KEYS[2])`;

/**
 * KEYS: task hash, running set. ARGV: id, worker, startedAt.
 * A worker takes a QUEUED task, or a DELAYED one whose job came back: 'ok'; 'cancel' when a cancel arrived
 * first; the status when the task is not runnable; 'rerun:<previous worker>' when it was already RUNNING
 * (its job came back after a lost worker); 'missing' when there is no record.
 */
export const CLAIM = `${TERMINAL}
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 'missing' end
if terminal(st) or st == 'WAITING' then return st end
if redis.call('HGET', KEYS[1], 'cancelRequested') == '1' then return 'cancel' end
if st == 'RUNNING' then return 'rerun:' .. (redis.call('HGET', KEYS[1], 'worker') or '') end
redis.call('HSET', KEYS[1], 'status', 'RUNNING', 'worker', ARGV[2], 'startedAt', ARGV[3])
redis.call('HDEL', KEYS[1], 'note', 'delayedUntil')
redis.call('SADD', KEYS[2], ARGV[1])
return 'ok'`;

/**
 * KEYS: task hash, running set. ARGV: id, worker, delayedUntil (ISO), the delays this machine counted, the
 * most delays allowed.
 * The worker running a task puts it back in the queue, rate limited: 'ok:<delays>' (DELAYED until then,
 * no worker, out of the running set); 'limit:<delays>' when it was delayed the most times already (nothing
 * changed: the worker fails it); 'cancel' when a cancel is pending; 'moved:<status>' when the task is no
 * longer RUNNING on that worker; 'missing'. The count is the larger of the record's (any machine's
 * delays) and the worker's own (its ledger: the record may have been rewritten), plus one.
 */
export const DELAY = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 'missing' end
if st ~= 'RUNNING' or redis.call('HGET', KEYS[1], 'worker') ~= ARGV[2] then return 'moved:' .. st end
if redis.call('HGET', KEYS[1], 'cancelRequested') == '1' then return 'cancel' end
local stored = tonumber(redis.call('HGET', KEYS[1], 'delays') or '0') or 0
if stored < 0 or stored ~= math.floor(stored) then stored = 0 end
local delays = math.max(stored, tonumber(ARGV[4])) + 1
if delays > tonumber(ARGV[5]) then return 'limit:' .. tostring(delays - 1) end
redis.call('HSET', KEYS[1], 'status', 'DELAYED', 'delayedUntil', ARGV[3], 'delays', tostring(delays))
redis.call('HDEL', KEYS[1], 'worker', 'note')
redis.call('SREM', KEYS[2], ARGV[1])
return 'ok:' .. tostring(delays)`;

/**
 * KEYS: task hash. ARGV: note ('' leaves the last one).
 * A worker that will not take a task hands its job back to the queue: 'ok' (the note, what the task waits
 * for, is recorded on a QUEUED task; a DELAYED one, whose delay is over since a worker had its job, is
 * QUEUED again); 'cancel' when a cancel is pending (the worker ends it instead, so a task cancelled while
 * its job was passed around still ends CANCELLED); the status when it already ended or is WAITING;
 * 'missing' when there is no record.
 */
export const HAND_BACK = `${TERMINAL}
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 'missing' end
if terminal(st) or st == 'WAITING' then return st end
if redis.call('HGET', KEYS[1], 'cancelRequested') == '1' then return 'cancel' end
if st == 'DELAYED' then
  redis.call('HSET', KEYS[1], 'status', 'QUEUED')
  redis.call('HDEL', KEYS[1], 'delayedUntil')
  st = 'QUEUED'
end
if st == 'QUEUED' then
  if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'note', ARGV[1]) end
end
return 'ok'`;

/**
 * KEYS: heartbeat key, worker names (sorted set), labels seen (sorted set).
 * ARGV: worker name, report (JSON), ttl ms, forget-after ms, then the worker's labels.
 * A worker's beat, scored by the Redis server's clock so that workers whose clocks differ agree on who
 * was seen when; names and labels not seen for the forget-after period are dropped.
 */
export const WORKER_BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[1])
for i = 5, #ARGV do redis.call('ZADD', KEYS[3], now, ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
return now`;

/** KEYS: task hash. ARGV: worker, startedAt. Take over a RUNNING task after its worker was lost. */
export const RECLAIM = `
if redis.call('HGET', KEYS[1], 'status') ~= 'RUNNING' then return 0 end
redis.call('HSET', KEYS[1], 'worker', ARGV[1], 'startedAt', ARGV[2])
return 1`;

/**
 * KEYS: task hash, waiting set, running set. ARGV: id, from status, to status, then field/value pairs.
 * Move a task from one status to another only if it is still in the first; returns 1 when it moved.
 */
export const TRANSITION = `
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[3] ~= 'WAITING' then redis.call('SREM', KEYS[2], ARGV[1]) end
if ARGV[3] ~= 'RUNNING' then redis.call('SREM', KEYS[3], ARGV[1]) end
return 1`;

/**
 * KEYS: parent hash, parent's children set, waiting set. ARGV: child id.
 * Registers a child of a parent that has not ended ('WAITING'), or returns the parent's final status,
 * or 'missing'.
 */
export const ATTACH_CHILD = `${TERMINAL}
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 'missing' end
if terminal(st) then return st end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 'WAITING'`;

/**
 * KEYS: task hash. Flags a QUEUED, RUNNING or DELAYED task for cancellation and returns its status (the
 * caller then tells the workers); other statuses are returned unchanged, 'missing' when there is no record.
 */
export const REQUEST_CANCEL = `${TERMINAL}
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 'missing' end
if terminal(st) or st == 'WAITING' then return st end
redis.call('HSET', KEYS[1], 'cancelRequested', '1')
return st`;
