import { z } from 'zod';
import type { Authenticator, ImportAdapter, ImportStream, StreamPage } from '../../src/import/adapter.ts';
import { staticAuth } from '../../src/import/auth-session.ts';
import type { ProviderClient } from '../../src/import/http-client.ts';

/**
 * An in-memory provider for driving the engine without HTTP: each stream replays the pages a test
 * scripted, and a test may add pages later (new records for an incremental run), fail a page once,
 * or call the engine's client from a stream (to exercise the auth lifecycle against a local server).
 */

const cursorSchema = z.object({ page: z.number().int().nonnegative() }).strict();
type Cursor = z.infer<typeof cursorSchema>;
type ScriptedPage = Omit<StreamPage, 'cursor' | 'done'>;

export type Script = {
  /** Pages per stream, in stream order; a stream's pages may grow between runs. */
  streams: Array<{ name: string; pages: ScriptedPage[] }>;
  /** Thrown once when this stream's page is fetched (then cleared). */
  failOnce?: { stream: string; page: number; error: Error } | undefined;
  /** Called before each page is returned, with the engine's client (auth lifecycle tests). */
  beforePage?: ((client: ProviderClient, signal: AbortSignal) => Promise<void>) | undefined;
  auth?: ((credentials: ScriptedCredentials) => Authenticator) | undefined;
  accountId?: string | undefined;
};

export const scriptedCredentialsSchema = z.object({ token: z.string(), refreshToken: z.string().optional(), accessToken: z.string().optional() }).strict();
export type ScriptedCredentials = z.infer<typeof scriptedCredentialsSchema>;

export function scriptedAdapter(script: Script, baseUrl = 'http://127.0.0.1:9'): ImportAdapter<ScriptedCredentials, Record<string, never>> {
  const stream = (name: string): ImportStream<Cursor> => ({
    name,
    cursorSchema,
    async nextPage(cursor, ctx) {
      const at = cursor?.page ?? 0;
      const fail = script.failOnce;
      if (fail && fail.stream === name && fail.page === at) {
        script.failOnce = undefined;
        throw fail.error;
      }
      const pages = script.streams.find((s) => s.name === name)!.pages;
      if (at >= pages.length) return { cursor: { page: at }, done: true };
      return { ...pages[at]!, cursor: { page: at + 1 }, done: at + 1 >= pages.length };
    },
  });
  let client: ProviderClient | undefined;
  return {
    provider: 'scripted',
    displayName: 'Scripted',
    credentialsSchema: scriptedCredentialsSchema,
    settingsSchema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
    describeCredentials: () => ({ type: 'token' }),
    countNames: { person: 'people', tenant: 'tenants', thread: 'threads', entry: 'entries', attachment: 'attachments', label: 'labels' },
    requester: ({ credentials }) => ({ baseUrl, auth: script.auth?.(credentials) ?? staticAuth({ Authorization: `Bearer ${credentials.token}` }) }),
    open({ client: c }) {
      client = c;
      return {
        streams: script.streams.map((s) => {
          const inner = stream(s.name);
          return {
            ...inner,
            async nextPage(cursor: Cursor | null, ctx) {
              await script.beforePage?.(client!, ctx.signal);
              return inner.nextPage(cursor, ctx);
            },
          } satisfies ImportStream<Cursor>;
        }),
        verify: async () => ({ accountId: script.accountId ?? 'scripted-account', accountName: 'Scripted' }),
      };
    },
    cli: { options: [], secrets: [], build: () => 'not from the command line' },
  };
}
