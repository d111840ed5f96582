import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { decodeKey, type Config } from './config.ts';

const fileSchema = z.object({
  secretsKey: z.string().refine((v) => decodeKey(v) !== undefined, 'not a 32-byte key'),
  inboundBasicAuth: z.string().regex(/^[^:\s]+:\S{8,}$/),
});

export type LocalSecrets = {
  secretsKey: Buffer;
  inboundBasicAuth: string;
  /** True when this call generated the inbound credentials, so the caller prints them once. */
  generatedInboundBasicAuth: boolean;
};

/**
 * SECRETS_KEY and INBOUND_BASIC_AUTH default to values generated on first start and kept in
 * DATA_DIR/secrets.json (mode 0600), so `npm start` needs no configuration and a restart keeps
 * encrypted data readable and the inbound webhook's credentials stable.
 */
export async function resolveLocalSecrets(config: Config): Promise<LocalSecrets> {
  const file = path.join(config.dataDir, 'secrets.json');
  const needFile = config.secretsKey === undefined || config.inboundBasicAuth === undefined;
  let stored: z.infer<typeof fileSchema> | undefined;
  let generated = false;
  if (needFile) {
    await fs.mkdir(config.dataDir, { recursive: true });
    const fresh = {
      secretsKey: randomBytes(32).toString('base64'),
      inboundBasicAuth: `postmark:${randomBytes(18).toString('base64url')}`,
    };
    try {
      // 'wx' makes the first of two processes starting together the only writer.
      await fs.writeFile(file, `${JSON.stringify(fresh, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      stored = fresh;
      generated = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      stored = await readSecretsFile(file);
    }
  }
  return {
    secretsKey: config.secretsKey ?? decodeKey(stored!.secretsKey)!,
    inboundBasicAuth: config.inboundBasicAuth ?? stored!.inboundBasicAuth,
    generatedInboundBasicAuth: generated && config.inboundBasicAuth === undefined,
  };
}

async function readSecretsFile(file: string): Promise<z.infer<typeof fileSchema>> {
  // The other process may still be writing it.
  for (let attempt = 0; ; attempt++) {
    const text = await fs.readFile(file, 'utf8');
    try {
      return fileSchema.parse(JSON.parse(text));
    } catch (err) {
      if (attempt >= 20) throw new Error(`${file} is not a valid secrets file: ${String(err)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
