import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskUrlPasswords } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ logLevel: 'info' }, stream), text: () => lines.join('') };
}

describe('the service logger', () => {
  it("logs an error pg-pool decorated with its client (57P01 on shutdown) as type, message, code and stack only", () => {
    const { logger, text } = capture();
    const err = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
      client: { connectionParameters: { password: 'pg-secret', connectionString: 'postgres://intake:pg-secret@127.0.0.1:5432/db' }, processID: 4242, secretKey: 987654321 },
    });
    logger.error({ err }, 'job queue error');
    const line = JSON.parse(text()) as { err: Record<string, unknown> };
    expect(Object.keys(line.err).sort()).toEqual(['code', 'message', 'stack', 'type']);
    for (const needle of ['pg-secret', '987654321', 'secretKey', 'processID', 'client']) expect(text()).not.toContain(needle);
  });

  it('masks passwords in URLs inside error messages, keeps the cause, and redacts credential fields', () => {
    const { logger, text } = capture();
    const err = new Error('connect failed: postgres://intake:hunter2@db:5432/x', { cause: new Error('inner https://bot:tok3n@api.example') });
    logger.error({ err, connection: { credentials: { apiToken: 'zd-token' }, accessToken: 'at' } }, 'boom');
    for (const needle of ['hunter2', 'tok3n', 'zd-token', '"at"']) expect(text()).not.toContain(needle);
    expect(text()).toContain('postgres://intake:[redacted]@db:5432/x');
    expect(text()).toContain('inner https://bot:[redacted]@api.example');
  });

  it('leaves URLs without a password alone', () => {
    expect(maskUrlPasswords('see http://127.0.0.1:3000/v1 and mailto:a@b.c')).toBe('see http://127.0.0.1:3000/v1 and mailto:a@b.c');
  });
});
