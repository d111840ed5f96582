import type { z } from 'zod';
import { ProviderError } from '../../src/import/errors.ts';
import type { ProviderClient, QueryParams } from '../../src/import/http-client.ts';
import { parseLimitInfo, type Allocation, type RunCalls } from './allocation.ts';

/**
 * The requester's GET as the Salesforce streams use it: each call is weighed against the org's
 * allocation first and counted; each answer's `Sforce-Limit-Info` updates where the org stands;
 * each body is checked against its envelope (a surprise is a ProviderError naming the path).
 */

export type SalesforceApi = {
  /** `v62.0`: calls go to /services/data/<version>/. */
  readonly version: string;
  readonly allocation: Allocation;
  get<T>(pathOrUrl: string, request: { params?: QueryParams; schema: z.ZodType<T>; what: string; signal?: AbortSignal | undefined; run?: RunCalls | undefined }): Promise<{ page: T; status: number; path: string }>;
};

export function createSalesforceApi(client: ProviderClient, options: { version: string; batchSize: number | undefined; allocation: Allocation }): SalesforceApi {
  const { allocation } = options;
  // Salesforce's page size for queries; without it Salesforce chooses (up to 2,000).
  const headers = options.batchSize ? { 'Sforce-Query-Options': `batchSize=${options.batchSize}` } : undefined;
  return {
    version: options.version,
    allocation,
    async get(pathOrUrl, request) {
      if (request.run) allocation.spend(request.run, { method: 'GET', path: pathOrUrl.split('?')[0]! });
      const res = await client.get(pathOrUrl, { params: request.params, signal: request.signal, headers });
      allocation.observe(parseLimitInfo(res.headers['sforce-limit-info']));
      const path = new URL(res.url).pathname;
      const parsed = request.schema.safeParse(res.data);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
        throw new ProviderError({ method: 'GET', path, status: res.status, detail: `unexpected ${request.what}${where}: ${issue?.message ?? 'bad shape'}` });
      }
      return { page: parsed.data, status: res.status, path };
    },
  };
}
