import type { RecordType, StreamContext } from '../adapter.ts';

/**
 * "Fetch the people this page mentions that the ledger does not know yet": the ids a page refers
 * to, minus the ones already imported, fetched in the provider's batch size (Zendesk's show_many
 * takes 100, HubSpot's batch read 100, Salesforce's IN clause a few hundred).
 */
export async function fetchUnknown<T>(
  ctx: StreamContext,
  recordType: RecordType,
  ids: Iterable<string>,
  batchSize: number,
  fetchBatch: (ids: string[]) => Promise<T[]>,
): Promise<T[]> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return [];
  const known = await ctx.known(recordType, wanted);
  const missing = wanted.filter((id) => !known.has(id));
  const out: T[] = [];
  for (let i = 0; i < missing.length; i += batchSize) out.push(...(await fetchBatch(missing.slice(i, i + batchSize))));
  return out;
}
