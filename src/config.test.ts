import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('config', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      dataDir: path.resolve('./.data'),
      port: 3000,
      host: '127.0.0.1',
      logLevel: 'info',
      inboundDomain: 'inbound.localhost',
      inboundBasicAuth: undefined,
      secretsKey: undefined,
      smtpUrl: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every setting', () => {
    const key = 'a'.repeat(64);
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/intake',
      DATA_DIR: '/var/lib/intake',
      PORT: '8080',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      INBOUND_DOMAIN: 'In.Example.COM',
      INBOUND_BASIC_AUTH: 'postmark:s3cret-pass',
      SECRETS_KEY: key,
      SMTP_URL: 'smtp://mail:25',
    });
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', dataDir: '/var/lib/intake', inboundDomain: 'in.example.com', inboundBasicAuth: 'postmark:s3cret-pass' });
    expect(config.secretsKey).toEqual(Buffer.from(key, 'hex'));
  });

  it('accepts a base64 secrets key', () => {
    const key = Buffer.alloc(32, 7);
    expect(loadConfig({ SECRETS_KEY: key.toString('base64') }).secretsKey).toEqual(key);
    expect(loadConfig({ SECRETS_KEY: key.toString('base64url') }).secretsKey).toEqual(key);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ' })).toMatchObject({ port: 3000, databaseUrl: undefined });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['LOG_LEVEL', 'loud'],
    ['INBOUND_DOMAIN', 'not a domain'],
    ['INBOUND_BASIC_AUTH', 'nopassword'],
    ['INBOUND_BASIC_AUTH', 'user:short'],
    ['SECRETS_KEY', 'too-short'],
    ['SECRETS_KEY', 'a'.repeat(62)],
    ['SMTP_URL', 'http://mail'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: `));
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'loud', SECRETS_KEY: 'nope' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['LOG_LEVEL', 'PORT', 'SECRETS_KEY']);
    }
  });
});
