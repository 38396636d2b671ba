export { log } from './logger.js';
export { silentSink, teeSink, type LogSink, type LogSource } from './log-sink.js';
export { boundedSink, logCutLine } from './bounded-sink.js';
export { LOG_LIMITS, type LogLimits } from './log-limits.js';
