import type { Logger } from '../../application/ports/logger.port.js';
import type { AccessLogConfig } from '../platform/config/types.js';
import type { AccessLogSink } from './access-entry.js';
import { accessLogRecord, createHeaderFilter, shouldLogPath } from './access-log.js';

/**
 * The access-log sink for one configuration: undefined when the log is disabled, so callers skip collecting
 * anything. Sensitive headers are redacted unless an allow list names them.
 */
export function createAccessLogSink(config: AccessLogConfig, log: Logger): AccessLogSink | undefined {
  if (config.disable) return undefined;
  const filters = {
    level: config.level,
    requestHeaders: createHeaderFilter(config.requestHeaders),
    responseHeaders: createHeaderFilter(config.responseHeaders),
  };
  return (entry) => {
    if (!shouldLogPath(entry.path)) return;
    const record = accessLogRecord(entry, filters);
    log.log(record.level, record.message, record.fields);
  };
}
