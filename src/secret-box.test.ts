import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret } from './secret-box.ts';

describe('secret box', () => {
  const key = randomBytes(32);

  it('round-trips and never stores the plaintext', () => {
    const sealed = encryptSecret(key, 'whsec-very-secret', 'w_1');
    expect(sealed).not.toContain('whsec');
    expect(encryptSecret(key, 'whsec-very-secret', 'w_1')).not.toBe(sealed); // fresh nonce
    expect(decryptSecret(key, sealed, 'w_1')).toBe('whsec-very-secret');
  });

  it('refuses a wrong key, a tampered value and another row', () => {
    const sealed = encryptSecret(key, 'secret', 'w_1');
    expect(() => decryptSecret(randomBytes(32), sealed, 'w_1')).toThrow();
    expect(() => decryptSecret(key, sealed, 'w_2')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('forged').toString('base64url');
    expect(() => decryptSecret(key, parts.join('.'), 'w_1')).toThrow();
    expect(() => decryptSecret(key, 'garbage', 'w_1')).toThrow(/not a sealed secret/);
  });

  it('needs a 32-byte key', () => {
    expect(() => encryptSecret(randomBytes(16), 'x')).toThrow(/32 bytes/);
  });
});
