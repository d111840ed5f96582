import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { announceFirstStart, announceGeneratedInboundAuth } from './first-start-banner.ts';

const credentials = {
  workspaceId: 'w_01TEST',
  apiKey: 'intake_secret-api-key',
  inboundAddress: 'abc@inbound.localhost',
  webhookSecret: 'secret-webhook-secret',
  inboundBasicAuth: 'postmark:secret-password',
  url: 'http://127.0.0.1:3000',
};
const SECRETS = [credentials.apiKey, credentials.webhookSecret, credentials.inboundBasicAuth];

/** A pino logger writing into a string, and a fake terminal. */
function capture(isTTY: boolean) {
  let log = '';
  let terminal = '';
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        log += String(chunk);
        done();
      },
    }),
  );
  return { logger, terminal: { isTTY, write: (t: string) => (terminal += t) }, log: () => log, shown: () => terminal };
}

describe('first-start banner', () => {
  it('on a terminal, shows every credential there and logs none', () => {
    const c = capture(true);
    announceFirstStart(credentials, '/data/credentials.json', c.logger, c.terminal);
    announceGeneratedInboundAuth('postmark:secret-password', '/data/secrets.json', c.logger, c.terminal);
    for (const secret of SECRETS) expect(c.shown()).toContain(secret);
    expect(c.shown()).toContain('/data/credentials.json');
    expect(c.log()).toBe('');
  });

  it('without a terminal, logs only where the credentials are', () => {
    const c = capture(false);
    announceFirstStart(credentials, '/data/credentials.json', c.logger, c.terminal);
    announceGeneratedInboundAuth('postmark:secret-password', '/data/secrets.json', c.logger, c.terminal);
    expect(c.shown()).toBe('');
    expect(c.log()).toContain('/data/credentials.json');
    expect(c.log()).toContain('/data/secrets.json');
    for (const secret of SECRETS) expect(c.log()).not.toContain(secret);
  });
});
