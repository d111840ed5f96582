import { pino, type Logger } from 'pino';
import type { Config } from '../config.ts';

/** One JSON logger for the process; secrets never reach it (the credentials banner is printed, not logged). */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'intake' },
    redact: { paths: ['req.headers.authorization', '*.password', '*.apiKey', '*.webhookSecret', '*.inboundBasicAuth'], censor: '[redacted]' },
  });
}
