import type { AuthGrant, Authenticator } from '../../src/import/adapter.ts';
import { ProviderError } from '../../src/import/errors.ts';
import { staticAuth } from '../../src/import/kit/index.ts';
import { tokenAnswerSchema, type HubSpotCredentials, type OAuthCredentials } from './schemas.ts';

/** HubSpot's OAuth token endpoint, on the connection's base URL. */
export const TOKEN_PATH = '/oauth/v1/token';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * A private app's token never expires. OAuth access tokens live 30 minutes: the engine refreshes a
 * minute before `expiresAt` and once on a 401, through the refresh token; the new access token (and
 * a rotated refresh token, should HubSpot send one) go back to the engine to be kept sealed.
 */
export function hubspotAuth(credentials: HubSpotCredentials, baseUrl: string): Authenticator {
  if (!('refreshToken' in credentials)) return staticAuth(bearer(credentials.accessToken));
  let current: OAuthCredentials = credentials;
  const tokenUrl = `${baseUrl.replace(/\/+$/, '')}${TOKEN_PATH}`;
  const expiresAt = credentials.expiresAt ? new Date(credentials.expiresAt) : null;
  return {
    // A stored access token is used until a minute before it expires (or, without a known expiry, until a 401).
    initial: credentials.accessToken ? { headers: bearer(credentials.accessToken), expiresAt } : null,
    async refresh(tokens, signal): Promise<AuthGrant> {
      const form = { grant_type: 'refresh_token', client_id: current.clientId, client_secret: current.clientSecret, refresh_token: current.refreshToken };
      const parsed = tokenAnswerSchema.safeParse(await tokens.postForm(tokenUrl, form, { signal }));
      if (!parsed.success) {
        throw new ProviderError({ method: 'POST', path: TOKEN_PATH, status: 200, detail: `unexpected token answer: ${parsed.error.issues[0]?.message ?? 'bad shape'}` });
      }
      const answer = parsed.data;
      const expires = new Date(Date.now() + answer.expires_in * 1000);
      current = { ...current, refreshToken: answer.refresh_token ?? current.refreshToken, accessToken: answer.access_token, expiresAt: expires.toISOString() };
      return { headers: bearer(answer.access_token), expiresAt: expires, credentials: current };
    },
  };
}
