import { readFile } from 'node:fs/promises';
import { parseEnv } from 'node:util';
import type { CliSecret } from '../import/adapter.ts';
import { InputError } from '../domain/input-error.ts';

/**
 * A provider's secrets for `intake import connect`: from the environment, or from a
 * `--secrets-file` (argv shows in `ps`, so secrets never need a flag). The file is .env-style,
 * the format `docker --env-file` and systemd's EnvironmentFile read too: `NAME=value` lines,
 * `#` comments, values quoted when they hold spaces or `#`. A name in the file wins over the
 * same name in the environment; names the provider does not read are ignored, so one file may
 * hold several providers' secrets.
 */
export async function readSecrets(
  secrets: readonly CliSecret[],
  env: NodeJS.ProcessEnv,
  file: string | undefined,
): Promise<Record<string, string | undefined>> {
  const fromFile = file === undefined ? {} : await readSecretsFile(file);
  return Object.fromEntries(secrets.map((s) => [s.env, nonEmpty(fromFile[s.env]) ?? nonEmpty(env[s.env])]));
}

async function readSecretsFile(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new InputError('Cannot read the secrets file', [{ field: '--secrets-file', message: `${file}: ${reason}`, type: 'VALIDATION' }]);
  }
  const parsed = parseEnv(text) as Record<string, string>;
  if (Object.keys(parsed).length === 0) {
    throw new InputError('The secrets file holds no secrets', [{ field: '--secrets-file', message: `${file} has no NAME=value line`, type: 'VALIDATION' }]);
  }
  return parsed;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
