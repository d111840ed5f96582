import { pino, stdSerializers, type Logger } from 'pino';
import type { Config } from '../config.ts';

/** Keys whose values never reach a log line, at the top of a log object or one level down. */
const SECRET_KEYS = [
  'password', 'apiKey', 'apiToken', 'token', 'accessToken', 'refreshToken', 'clientSecret', 'credentials',
  'webhookSecret', 'inboundBasicAuth', 'secretKey', 'secretsKey', 'connectionString', 'authorization',
];

/**
 * One JSON logger for `intake start`, on stdout (the service's output is its log); secrets never
 * reach it (the first-start banner goes to the terminal, see first-start-banner.ts).
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: { service: 'intake' },
    redact: { paths: ['req.headers.authorization', ...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
    serializers: { err: safeError, error: safeError },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * An error as a log field: type, message, code, stack and cause, nothing else. pg-pool attaches
 * the whole client to an idle connection's error (`err.client`: host, user, password, the cancel
 * key), and other libraries hang requests and configs on theirs, so no object-valued property is
 * copied; passwords inside connection strings and URLs in the text are masked.
 */
export function safeError(err: unknown): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? maskUrlPasswords(err) : err;
  const serialized = stdSerializers.err(err) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (SECRET_KEYS.includes(key)) continue;
    if (typeof value === 'string') out[key] = maskUrlPasswords(value);
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  if (err.cause !== undefined) out.cause = safeError(err.cause);
  return out;
}

/** `postgres://user:secret@host` -> `postgres://user:[redacted]@host`, for any scheme. */
export function maskUrlPasswords(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, '$1:[redacted]@');
}
