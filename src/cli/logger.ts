import { pino, type Logger } from 'pino';
import type { Config } from '../config.ts';

/** One JSON logger for the process, on stdout; secrets never reach it (the first-start banner goes to the terminal, see first-start-banner.ts). */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'intake' },
    redact: { paths: ['req.headers.authorization', '*.password', '*.apiKey', '*.webhookSecret', '*.inboundBasicAuth'], censor: '[redacted]' },
  });
}
