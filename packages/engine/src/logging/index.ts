export { log } from './logger.js';
export { silentSink, teeSink, type LogSink, type LogSource } from './log-sink.js';
