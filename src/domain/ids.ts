import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/** Prefixes of our ids: a short prefix, an underscore and a ULID, as Plain's ids are. */
export const ID_PREFIX = Object.freeze({
  workspace: 'w',
  apiKey: 'key',
  customer: 'c',
  company: 'co',
  tenant: 'te',
  label: 'l',
  thread: 'th',
  timelineEntry: 'tle',
  inboundEmail: 'ie',
  event: 'ev',
  webhookTarget: 'wht',
  webhookDelivery: 'whd',
  webhookAttempt: 'wha',
  autoResponse: 'ar',
  autoResponseSend: 'ars',
  attachment: 'att',
  importConnection: 'ic',
  importRun: 'ir',
} as const);

export type IdKind = keyof typeof ID_PREFIX;

/** Plain's webhook schema requires exactly this form. */
export const PLAIN_ID = /^[a-zA-Z]+_[0-9A-HJKMNP-TV-Z]{26}$/;

// Monotonic: ids made in the same millisecond still sort in creation order. Random bytes drawn
// from a pooled buffer: ulid's default asks the crypto source once per character (16 per id).
const pool = Buffer.alloc(4096);
let pooled = pool.length;
const ulid = monotonicFactory(() => {
  if (pooled === pool.length) {
    randomFillSync(pool);
    pooled = 0;
  }
  return pool[pooled++]! / 256;
});

export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIX[kind]}_${ulid(now)}`;
}

export function isId(kind: IdKind, value: string): boolean {
  return PLAIN_ID.test(value) && value.startsWith(`${ID_PREFIX[kind]}_`);
}
