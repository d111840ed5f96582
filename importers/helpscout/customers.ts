import pLimit from 'p-limit';
import type { ImportStream, PersonRecord } from '../../src/import/adapter.ts';
import { RecordError } from '../../src/import/errors.ts';
import type { ProviderClient } from '../../src/import/http-client.ts';
import { fetchPage, pageNumbers, pagingError, selectRecords } from '../../src/import/kit/index.ts';
import { customerSourceId, mapCustomer, mapCustomerRef } from './map.ts';
import { customerSchema, halPageSchema, type PersonRef } from './schemas.ts';
import { asked, beginWalk, endWalk, isWalk, listCursorSchema, walkParams, type ListCursor } from './walk.ts';

const CUSTOMERS = '/v2/customers';
const customersPage = halPageSchema('customers');

/**
 * Every customer, also those without a conversation (Plain: "all your end users"), 50 a page,
 * by HAL page numbers; later runs read the ones changed since.
 */
export function customersStream(client: ProviderClient): ImportStream<ListCursor> {
  return {
    name: 'customers',
    cursorSchema: listCursorSchema,
    async nextPage(cursor, ctx) {
      const walk = isWalk(cursor) ? cursor : beginWalk(cursor);
      const { page, status } = await fetchPage(client, { path: CUSTOMERS, params: walkParams(walk), signal: ctx.signal }, customersPage, 'customers page');
      const { records, failures } = selectRecords(page._embedded?.customers ?? [], customerSchema, 'person', 'customer');
      const step = pageNumbers(asked(walk.page, page.page), (detail) => pagingError('GET', CUSTOMERS, status, `the customers list: ${detail}`));
      return { people: records.map(mapCustomer), failures, cursor: step.done ? endWalk(walk) : { ...walk, page: step.cursor }, done: step.done };
    },
  };
}

/**
 * Customers a page of conversations names that the ledger does not hold yet (created after the
 * customers stream read its pages): each read on its own, as Help Scout has no batch read. One
 * Help Scout no longer has (deleted, merged) is taken as the conversation names them.
 */
export async function unknownCustomers(client: ProviderClient, signal: AbortSignal, refs: ReadonlyMap<string, PersonRef>, concurrency: number): Promise<PersonRecord[]> {
  const limit = pLimit(concurrency);
  return Promise.all(
    [...refs].map(([id, ref]) =>
      limit(async (): Promise<PersonRecord> => {
        try {
          const res = await client.get(`${CUSTOMERS}/${ref.id}`, { params: { embed: 'emails' }, signal });
          const parsed = customerSchema.safeParse(res.data);
          if (parsed.success && customerSourceId(parsed.data.id) === id) return mapCustomer(parsed.data);
        } catch (err) {
          if (!(err instanceof RecordError)) throw err;
        }
        return mapCustomerRef(ref);
      }),
    ),
  );
}
