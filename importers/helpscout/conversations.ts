import pLimit from 'p-limit';
import type { ImportStream, PersonRecord, RecordFailure, StreamContext, StreamPage } from '../../src/import/adapter.ts';
import { ProviderError, RecordError } from '../../src/import/errors.ts';
import type { ProviderClient } from '../../src/import/http-client.ts';
import { clip, fetchPage, pageNumbers, pagingError, selectRecords } from '../../src/import/kit/index.ts';
import { unknownCustomers } from './customers.ts';
import { customerSourceId, mapAgent, mapConversation, mapThread, SKIPPED_CONVERSATION_STATES, threadAuthor, threadSkipReason, userSourceId } from './map.ts';
import { conversationSchema, halPageSchema, mailboxSchema, threadSchema, type HelpScoutConversation, type HelpScoutSettings, type PersonRef } from './schemas.ts';
import { asked, beginWalk, endWalk, isWalk, listCursorSchema, walkParams, type ListCursor, type Walk } from './walk.ts';

const CONVERSATIONS = '/v2/conversations';
const MAILBOXES = '/v2/mailboxes';
const conversationsPage = halPageSchema('conversations');
const threadsPage = halPageSchema('threads');
const mailboxesPage = halPageSchema('mailboxes');

export type ConversationsOptions = { client: ProviderClient; settings: HelpScoutSettings; concurrency: number };

/**
 * Every conversation of the connection's mailboxes, one mailbox after the other, 25 a page with
 * their threads embedded (`status=all`: without it closed and spam conversations are missing).
 * A later run reads the conversations changed since, and creates exactly the threads it has not
 * seen (a reply on an old conversation).
 */
export function conversationsStream(o: ConversationsOptions): ImportStream<ListCursor> {
  const limit = pLimit(o.concurrency);
  return {
    name: 'conversations',
    cursorSchema: listCursorSchema,
    async nextPage(cursor, ctx) {
      const walk: Walk = isWalk(cursor) ? cursor : { ...beginWalk(cursor), mailboxes: await mailboxesToWalk(o, ctx.signal) };
      const [mailbox, ...rest] = walk.mailboxes ?? [];
      if (mailbox === undefined) return { cursor: endWalk(walk), done: true };
      const params = { ...walkParams(walk), status: 'all', mailbox, embed: 'threads' };
      const { page, status } = await fetchPage(o.client, { path: CONVERSATIONS, params, signal: ctx.signal }, conversationsPage, 'conversations page');
      const { records, failures } = selectRecords(page._embedded?.conversations ?? [], conversationSchema, 'thread', 'conversation');
      const step = pageNumbers(asked(walk.page, page.page), (detail) => pagingError('GET', CONVERSATIONS, status, `the conversations of mailbox ${mailbox}: ${detail}`));
      const next: ListCursor = !step.done ? { ...walk, page: step.cursor } : rest.length > 0 ? { ...walk, mailboxes: rest, page: 1 } : endWalk(walk);
      const mapped = await mapConversations(o, records, ctx, limit);
      return { ...mapped, failures: [...failures, ...mapped.failures], cursor: next, done: step.done && rest.length === 0 };
    },
  };
}

/** The connection's mailboxes: all of them, or the ones its settings name (each must exist). */
async function mailboxesToWalk(o: ConversationsOptions, signal: AbortSignal): Promise<number[]> {
  const all: number[] = [];
  for (let n = 1; ; ) {
    const { page, status } = await fetchPage(o.client, { path: MAILBOXES, params: { page: n }, signal }, mailboxesPage, 'mailboxes page');
    all.push(...selectRecords(page._embedded?.mailboxes ?? [], mailboxSchema, 'thread', 'mailbox').records.map((m) => m.id));
    const step = pageNumbers(asked(n, page.page), (detail) => pagingError('GET', MAILBOXES, status, `the mailboxes list: ${detail}`));
    if (step.done) break;
    n = step.cursor;
  }
  const wanted = o.settings.mailboxIds;
  if (!wanted) return all;
  const missing = wanted.filter((id) => !all.includes(id));
  if (missing.length > 0) {
    throw new ProviderError({ method: 'GET', path: MAILBOXES, status: 200, detail: `the connection names mailboxes this Help Scout account does not have: ${missing.join(', ')} (it has ${all.join(', ') || 'none'})` });
  }
  return wanted;
}

type Mapped = Required<Pick<StreamPage, 'people' | 'threads' | 'entries' | 'skipped' | 'failures'>>;

async function mapConversations(o: ConversationsOptions, conversations: HelpScoutConversation[], ctx: StreamContext, limit: ReturnType<typeof pLimit>): Promise<Mapped> {
  const out: Mapped = { people: [], threads: [], entries: [], skipped: [], failures: [] };
  const live: Array<HelpScoutConversation & { primaryCustomer: PersonRef }> = [];
  for (const c of conversations) {
    if (c.state && SKIPPED_CONVERSATION_STATES.has(c.state)) out.skipped.push({ recordType: 'thread', sourceId: String(c.id) });
    else if (!c.primaryCustomer) out.failures.push({ recordType: 'thread', sourceId: String(c.id), reason: 'the conversation has no primary customer', excerpt: excerpt(c) });
    else live.push({ ...c, primaryCustomer: c.primaryCustomer });
  }
  const threadLists = await Promise.all(live.map((c) => limit(() => threadsOf(o.client, c, ctx.signal))));
  const customers = new Map<string, PersonRef>();
  const agents = new Map<string, PersonRef>();
  live.forEach((c, i) => {
    const list = threadLists[i]!;
    if ('failure' in list) return void out.failures.push(list.failure);
    const read = selectRecords(list.threads, threadSchema, 'entry', `thread of conversation ${c.id}`);
    out.failures.push(...read.failures);
    out.threads.push(mapConversation(c));
    customers.set(customerSourceId(c.primaryCustomer.id), c.primaryCustomer);
    for (const t of read.records) {
      if (threadSkipReason(t) !== null) {
        out.skipped.push({ recordType: 'entry', sourceId: String(t.id) });
        continue;
      }
      out.entries.push(mapThread(c.id, t));
      const by = threadAuthor(t);
      if (by?.type === 'user') agents.set(userSourceId(by.id), by);
      else if (by && (by.type === 'customer' || t.type === 'customer')) customers.set(customerSourceId(by.id), by);
    }
  });
  // One ledger lookup for everyone the page names: only people it does not hold yet are sent on.
  const mentioned = [...customers.keys(), ...agents.keys()];
  const known = mentioned.length > 0 ? await ctx.known('person', mentioned) : new Map();
  const unknown = <T>(refs: Map<string, T>) => new Map([...refs].filter(([id]) => !known.has(id)));
  const people: PersonRecord[] = [...(await unknownCustomers(o.client, ctx.signal, unknown(customers), o.concurrency)), ...[...unknown(agents).values()].map(mapAgent)];
  out.people.push(...people);
  return out;
}

/**
 * A conversation's threads: the embedded ones when they are all there, else the threads list
 * (chat threads come truncated in the embed, and a long conversation holds more than it).
 * A list Help Scout refuses for this conversation alone is a record error for it.
 */
async function threadsOf(client: ProviderClient, c: HelpScoutConversation, signal: AbortSignal): Promise<{ threads: unknown[] } | { failure: RecordFailure }> {
  const embedded = c._embedded?.threads ?? [];
  if (c.type !== 'chat' && (c.threads ?? 0) <= embedded.length) return { threads: embedded };
  const path = `${CONVERSATIONS}/${c.id}/threads`;
  const threads: unknown[] = [];
  try {
    for (let n = 1; ; ) {
      const { page, status } = await fetchPage(client, { path, params: { page: n }, signal }, threadsPage, `threads page of conversation ${c.id}`);
      threads.push(...(page._embedded?.threads ?? []));
      const step = pageNumbers(asked(n, page.page), (detail) => pagingError('GET', path, status, `the threads of conversation ${c.id}: ${detail}`));
      if (step.done) return { threads };
      n = step.cursor;
    }
  } catch (err) {
    if (!(err instanceof RecordError)) throw err;
    return { failure: { recordType: 'thread', sourceId: String(c.id), reason: `its threads could not be read: ${err.message}`, excerpt: excerpt(c) } };
  }
}

function excerpt(c: HelpScoutConversation): string {
  const { _embedded, ...rest } = c;
  return clip(JSON.stringify(rest), 500);
}
