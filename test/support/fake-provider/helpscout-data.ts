import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TINY_PNG } from './zendesk-data.ts';

/**
 * Help Scout data for the fake server, shaped as the Mailbox API 2.0 documents its resources. A
 * source is random-access and ordered by modification time (the order `sortField=modifiedAt`
 * walks), so pages are built on demand and nothing large is held: `generateHelpScout` computes
 * record i from (seed, i). Conversations keep their modification time in `_modifiedAt`, which the
 * API does not show; the fake strips it.
 */

export type HPersonRef = { id: number; type: 'customer' | 'user' | 'team'; first?: string; last?: string; email?: string };
export type HUser = { id: number; firstName: string; lastName: string; email: string; role: string; companyId?: number | null; [k: string]: unknown };
export type HMailbox = { id: number; name: string; slug: string; email: string; createdAt: string; updatedAt: string };
export type HCustomer = {
  id: number;
  firstName: string;
  lastName: string;
  createdAt: string;
  updatedAt: string;
  _embedded: { emails: Array<{ id?: number; value?: string; type?: string }>; [k: string]: unknown };
  /** Fixtures only: false keeps the customer out of the list (created after a walk passed), GET finds them. */
  _listed?: boolean;
  [k: string]: unknown;
};
export type HAttachment = { id: number; filename: string; mimeType: string; size?: number; state: 'valid' | 'virus'; width?: number; height?: number };
export type HThread = {
  id: number;
  type: string;
  status: string;
  state: string;
  body?: string | null;
  customer: HPersonRef | null;
  createdBy: HPersonRef;
  createdAt: string;
  _embedded?: { attachments: HAttachment[] };
  [k: string]: unknown;
};
export type HConversation = {
  id: number;
  number: number;
  threads: number;
  type: 'email' | 'chat' | 'phone';
  status: string;
  state: string;
  subject: string;
  mailboxId: number;
  createdAt: string;
  primaryCustomer?: HPersonRef;
  tags: Array<{ id: number; color: string; tag: string }>;
  _modifiedAt: string;
  _embedded: { threads: HThread[] };
  [k: string]: unknown;
};

export type HBlob = { bytes: Buffer; virus: boolean };

export type HelpScoutSource = {
  companyId: number | null;
  /** users/me: the app's owner. */
  me: HUser;
  mailboxes: HMailbox[];
  /** Listed customers, ordered by updatedAt. */
  customerCount: number;
  customerAt: (index: number) => HCustomer;
  /** Any customer by id, also one not listed. */
  customerById: (id: number) => HCustomer | undefined;
  /** A mailbox's conversations, ordered by modification time. */
  conversationCount: (mailboxId: number) => number;
  conversationAt: (mailboxId: number, index: number) => HConversation;
  conversationById: (id: number) => HConversation | undefined;
  blob: (attachmentId: number) => HBlob | undefined;
};

export const HELPSCOUT_FIXTURE_FILE = fileURLToPath(new URL('../../fixtures/helpscout/fixtures.json', import.meta.url));

type FixtureBlob = { kind?: 'png'; base64?: string; text?: string; size?: number; magic?: string; virus?: boolean };
type Fixtures = { users: HUser[]; mailboxes: HMailbox[]; customers: HCustomer[]; conversations: HConversation[]; attachments: Record<string, FixtureBlob> };

function deterministicBytes(size: number, seed: string, magic = ''): Buffer {
  const buf = Buffer.alloc(size);
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  for (let i = 0; i < size; i++) {
    h = Math.imul(h ^ i, 16777619);
    buf[i] = h & 0xff;
  }
  buf.write(magic, 0, 'latin1');
  return buf;
}

const byTime = <T extends { id: number }>(time: (x: T) => string) => (a: T, b: T) => (time(a) === time(b) ? a.id - b.id : time(a) < time(b) ? -1 : 1);

/** The hand-written account in test/fixtures/helpscout/fixtures.json. */
export function helpScoutFixtures(file = HELPSCOUT_FIXTURE_FILE): HelpScoutSource {
  const f = JSON.parse(readFileSync(file, 'utf8')) as Fixtures;
  const customers = new Map(f.customers.map((c) => [c.id, c]));
  const listed = f.customers.filter((c) => c._listed !== false).sort(byTime((c) => c.updatedAt));
  const conversations = new Map(f.conversations.map((c) => [c.id, c]));
  const perMailbox = new Map(f.mailboxes.map((m) => [m.id, f.conversations.filter((c) => c.mailboxId === m.id).sort(byTime((c) => c._modifiedAt))]));
  const strip = ({ _listed, ...c }: HCustomer) => structuredClone(c) as HCustomer;
  return {
    companyId: f.users[0]!.companyId ?? null,
    me: f.users[0]!,
    mailboxes: f.mailboxes,
    customerCount: listed.length,
    customerAt: (i) => strip(listed[i]!),
    customerById: (id) => {
      const c = customers.get(id);
      return c ? strip(c) : undefined;
    },
    conversationCount: (m) => perMailbox.get(m)?.length ?? 0,
    conversationAt: (m, i) => structuredClone(perMailbox.get(m)![i]!),
    conversationById: (id) => {
      const c = conversations.get(id);
      return c ? structuredClone(c) : undefined;
    },
    blob: (id) => {
      const b = f.attachments[String(id)];
      if (!b) return undefined;
      const bytes = b.kind === 'png' ? TINY_PNG : b.base64 ? Buffer.from(b.base64, 'base64') : b.text !== undefined ? Buffer.from(b.text) : deterministicBytes(b.size ?? 16, String(id), b.magic);
      return { bytes, virus: b.virus === true };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Generator

export type GenerateHelpScoutOptions = {
  customers: number;
  conversations: number;
  threadsPerConversation: number;
  /** Attachments in all, spread over the conversations' first threads. Default: one per 10 conversations. */
  attachments?: number;
  mailboxes?: number;
  /** Every Nth conversation is a chat (its embedded threads are truncated: the threads list is read). Default 20; 0 = none. */
  chatEvery?: number;
  seed?: number;
};

const CUSTOMER_ID0 = 2_000_000;
const CONVERSATION_ID0 = 5_000_000;
const USER_ID0 = 7_000;
const CUSTOMERS_T0 = Date.UTC(2021, 0, 1) / 1000;
const CONVERSATIONS_T0 = Date.UTC(2022, 0, 1) / 1000;
const TAGS = ['billing', 'bug', 'feature', 'vip', 'refund', 'login', 'mobile', 'api', 'urgent', 'feedback'];
const STATUSES: Array<[string, number]> = [
  ['active', 0.3],
  ['pending', 0.45],
  ['closed', 0.9],
  ['spam', 0.95],
  ['closed', 1],
];
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/** Deterministic random in [0,1) from (seed, a, b). */
function rand(seed: number, a: number, b = 0): number {
  let h = (seed ^ Math.imul(a + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** An account of any size, every record computed from its index: nothing is held in memory. */
export function generateHelpScout(options: GenerateHelpScoutOptions): HelpScoutSource {
  const N = Math.max(1, options.customers);
  const M = options.conversations;
  const K = Math.max(1, options.threadsPerConversation);
  const seed = options.seed ?? 1;
  const boxes = Math.max(1, options.mailboxes ?? 2);
  const chatEvery = options.chatEvery ?? 20;
  const attachmentEvery = Math.max(1, Math.floor(M / Math.max(1, options.attachments ?? Math.ceil(M / 10))));
  const users: HUser[] = Array.from({ length: 5 }, (_, u) => ({ id: USER_ID0 + u, firstName: 'Agent', lastName: String(u), email: `agent${u}@generated.test`, role: u === 0 ? 'owner' : 'user', companyId: 4242 }));
  const mailboxes: HMailbox[] = Array.from({ length: boxes }, (_, b) => ({ id: 900 + b, name: `Mailbox ${b}`, slug: `mailbox-${b}`, email: `mailbox${b}@generated.test`, createdAt: iso(CUSTOMERS_T0), updatedAt: iso(CUSTOMERS_T0) }));

  const customer = (i: number): HCustomer => {
    const id = CUSTOMER_ID0 + i;
    const t = iso(CUSTOMERS_T0 + i * 30);
    const emails = i % 97 === 0 ? [] : i % 50 === 7 ? [0, 1, 2].map((k) => ({ id: id * 10 + k, value: `customer${i}.${k}@c${i % 500}.test`, type: 'work' })) : [{ id: id * 10, value: `customer${i}@c${i % 500}.test`, type: 'work' }];
    return {
      id,
      firstName: 'Customer',
      lastName: String(i),
      gender: 'unknown',
      photoType: 'default',
      createdAt: t,
      updatedAt: t,
      _embedded: { emails, phones: [], chats: [], social_profiles: [], websites: [], ...(i % 3 === 0 ? { address: { city: 'Leeds', lines: ['1 High St'] } } : {}) },
    };
  };
  const ref = (c: HCustomer): HPersonRef => ({ id: c.id, type: 'customer', first: c.firstName, last: c.lastName, ...(c._embedded.emails[0]?.value ? { email: c._embedded.emails[0].value } : {}) });
  const userRef = (u: HUser): HPersonRef => ({ id: u.id, type: 'user', first: u.firstName, last: u.lastName, email: u.email });

  const conversation = (j: number): HConversation => {
    const id = CONVERSATION_ID0 + j;
    const t0 = CONVERSATIONS_T0 + j * 60;
    const primary = ref(customer(Math.floor(rand(seed, j, 1) * N)));
    const agent = users[Math.floor(rand(seed, j, 2) * users.length)]!;
    const r = rand(seed, j, 3);
    const status = STATUSES.find(([, p]) => r < p)![0];
    const type = chatEvery > 0 && j % chatEvery === chatEvery - 1 ? 'chat' : 'email';
    const threads: HThread[] = Array.from({ length: K }, (_, k) => {
      const byCustomer = k % 2 === 0;
      const kind = type === 'chat' ? 'chat' : k === 2 ? 'note' : byCustomer ? 'customer' : 'message';
      const thread: HThread = {
        id: id * 100 + k,
        type: kind,
        status: 'active',
        state: 'published',
        body: byCustomer ? `<p>Message ${k} of conversation ${j} from the customer.</p>` : `<p>Answer ${k} to conversation ${j}.</p>`,
        source: { type: type === 'chat' ? 'chat' : 'email', via: byCustomer ? 'customer' : 'user' },
        customer: primary,
        createdBy: byCustomer && kind !== 'note' ? primary : userRef(agent),
        to: [],
        cc: [],
        bcc: [],
        createdAt: iso(t0 + k * 5),
      };
      if (k === 0 && j % attachmentEvery === 0) {
        thread._embedded = { attachments: [{ id: id * 10 + 1, filename: `file-${j}.png`, mimeType: 'image/png', size: TINY_PNG.length, state: 'valid' }] };
      }
      return thread;
    });
    return {
      id,
      number: j + 1,
      threads: K,
      type,
      folderId: 1,
      status,
      state: 'published',
      subject: `Generated conversation ${j}`,
      preview: `Message ${K - 1}`,
      mailboxId: mailboxes[j % boxes]!.id,
      assignee: userRef(agent),
      createdBy: primary,
      createdAt: iso(t0),
      userUpdatedAt: iso(t0 + K * 5),
      source: { type: type === 'chat' ? 'chat' : 'email', via: 'customer' },
      tags: rand(seed, j, 4) < 0.5 ? [] : [{ id: 1, color: '#929499', tag: TAGS[Math.floor(rand(seed, j, 5) * TAGS.length)]! }],
      cc: [],
      bcc: [],
      primaryCustomer: primary,
      customFields: [],
      _modifiedAt: iso(t0 + K * 5),
      _embedded: { threads },
    };
  };

  const mailboxIndex = new Map(mailboxes.map((m, b) => [m.id, b]));
  return {
    companyId: 4242,
    me: users[0]!,
    mailboxes,
    customerCount: N,
    customerAt: customer,
    customerById: (id) => (id >= CUSTOMER_ID0 && id < CUSTOMER_ID0 + N ? customer(id - CUSTOMER_ID0) : undefined),
    conversationCount: (m) => {
      const b = mailboxIndex.get(m);
      return b === undefined || b >= M ? 0 : Math.floor((M - 1 - b) / boxes) + 1;
    },
    conversationAt: (m, i) => conversation(mailboxIndex.get(m)! + i * boxes),
    conversationById: (id) => (id >= CONVERSATION_ID0 && id < CONVERSATION_ID0 + M ? conversation(id - CONVERSATION_ID0) : undefined),
    blob: (attachmentId) => {
      const j = Math.floor(attachmentId / 10) - CONVERSATION_ID0;
      return j >= 0 && j < M && j % attachmentEvery === 0 && attachmentId % 10 === 1 ? { bytes: TINY_PNG, virus: false } : undefined;
    },
  };
}
