import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Blob } from './core.ts';

/**
 * Zendesk data sources for the fake server. A source is random-access and ordered by
 * updated_at (the order Zendesk's incremental exports walk), so pages are built on demand and
 * nothing large is held in memory: `generateZendesk` computes record i from (seed, i).
 *
 * Fixtures live in test/fixtures/zendesk/*.json; strings there may contain "{base}", replaced by
 * the fake server's URL when a record is served.
 */

export type ZUser = {
  id: number;
  url: string;
  name: string;
  email: string | null;
  role: 'end-user' | 'agent' | 'admin';
  created_at: string;
  updated_at: string;
  [k: string]: unknown;
};

export type ZAttachment = {
  id: number;
  url: string;
  file_name: string;
  content_url: string;
  mapped_content_url: string;
  content_type: string;
  size: number;
  inline: boolean;
  [k: string]: unknown;
};

export type ZComment = {
  id: number;
  type: 'Comment';
  author_id: number;
  body: string;
  html_body: string;
  plain_body: string;
  public: boolean;
  attachments: ZAttachment[];
  created_at: string;
  [k: string]: unknown;
};

export type ZTicket = {
  id: number;
  url: string;
  subject: string;
  description: string;
  status: 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed' | 'deleted';
  requester_id: number;
  submitter_id: number;
  assignee_id: number | null;
  tags: string[];
  created_at: string;
  updated_at: string;
  generated_timestamp: number;
  [k: string]: unknown;
};

export type ZendeskSource = {
  /** Users in the export, ordered by updated_at. */
  userCount: number;
  userAt: (index: number, base: string) => ZUser;
  /** Any user by id, including ones not (yet) in the export (users/show_many, users/me). */
  userById: (id: number, base: string) => ZUser | undefined;
  /** Tickets in the export, ordered by updated_at. */
  ticketCount: number;
  ticketAt: (index: number, base: string) => ZTicket;
  ticketIndex: (id: number) => number | undefined;
  commentsFor: (ticketId: number, base: string) => ZComment[];
  blob: (token: string) => Blob | undefined;
  /** Positions in each export stream before which an empty page is served once. */
  emptyPages: { users: number[]; tickets: number[] };
  /** The user returned by users/me. */
  meId: number;
  /** Organizations, in id order (the list endpoint's order). */
  organizations: (base: string) => ZOrganization[];
};

export type ZOrganization = { id: number; url: string; name: string; external_id: string | null; created_at: string; updated_at: string; [k: string]: unknown };

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
export const toSeconds = (isoTime: string) => Math.floor(Date.parse(isoTime) / 1000);

// A valid 1x1 PNG.
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

function deterministicBytes(size: number, seed: string): Buffer {
  const buf = Buffer.alloc(size);
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  for (let i = 0; i < size; i++) {
    h = Math.imul(h ^ i, 16777619);
    buf[i] = h & 0xff;
  }
  return buf;
}

/**
 * A large file's bytes, its own for each token and the same on every request: AES-CTR of zeros
 * under a key from the token (megabytes in milliseconds), behind a PDF header.
 */
function documentBody(size: number, token: string): Buffer {
  const key = createHash('sha256').update(token).digest().subarray(0, 16);
  const body = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
  body.write('%PDF-1.7\n', 0, 'latin1');
  return body;
}

// ---------------------------------------------------------------------------------------------
// Fixtures

type FixtureUser = ZUser & { _export?: boolean };
type FixtureBlob = { content_type: string; base64?: string; size?: number; kind?: 'png' };
type Fixtures = {
  users: FixtureUser[];
  tickets: ZTicket[];
  comments: Record<string, ZComment[]>;
  attachments: Record<string, FixtureBlob>;
  organizations: ZOrganization[];
};

export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/zendesk/', import.meta.url));

export function readZendeskFixtures(dir = FIXTURE_DIR): Fixtures {
  const read = (name: string) => JSON.parse(readFileSync(`${dir}/${name}`, 'utf8'));
  return {
    users: read('users.json').users,
    tickets: read('tickets.json').tickets,
    comments: read('comments.json').comments,
    attachments: read('attachments.json').attachments,
    organizations: read('organizations.json').organizations,
  };
}

function withBase<T>(value: T, base: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll('{base}', base)) as T;
}

export type FixtureSourceOptions = {
  dir?: string;
  /** Default: one empty page in the users stream before position 4 and in tickets before 3. */
  emptyPages?: { users?: number[]; tickets?: number[] };
};

export function zendeskFixtures(options: FixtureSourceOptions = {}): ZendeskSource {
  const f = readZendeskFixtures(options.dir);
  const byUpdated = <T extends { id: number; updated_at: string }>(a: T, b: T) =>
    a.updated_at === b.updated_at ? a.id - b.id : a.updated_at < b.updated_at ? -1 : 1;
  const allUsers = new Map(f.users.map((u) => [u.id, u]));
  // `_export: false` marks a person who exists (show_many finds them) but is not in the users
  // export, e.g. created after the users stream finished: the adapter must fetch them.
  const exported = f.users.filter((u) => u._export !== false).sort(byUpdated);
  const tickets = [...f.tickets].sort(byUpdated);
  const ticketIdx = new Map(tickets.map((t, i) => [t.id, i]));
  const strip = ({ _export, ...u }: FixtureUser) => u as ZUser;
  const admin = f.users.find((u) => u.role === 'admin');
  return {
    userCount: exported.length,
    userAt: (i, base) => withBase(strip(exported[i]!), base),
    userById: (id, base) => {
      const u = allUsers.get(id);
      return u ? withBase(strip(u), base) : undefined;
    },
    ticketCount: tickets.length,
    ticketAt: (i, base) => withBase(tickets[i]!, base),
    ticketIndex: (id) => ticketIdx.get(id),
    commentsFor: (ticketId, base) => withBase(f.comments[String(ticketId)] ?? [], base),
    blob: (token) => {
      const b = f.attachments[token];
      if (!b) return undefined;
      const body = b.kind === 'png' ? TINY_PNG : b.base64 ? Buffer.from(b.base64, 'base64') : deterministicBytes(b.size ?? 16, token);
      return { contentType: b.content_type, body };
    },
    emptyPages: {
      users: options.emptyPages?.users ?? (options.emptyPages ? [] : [4]),
      tickets: options.emptyPages?.tickets ?? (options.emptyPages ? [] : [3]),
    },
    meId: admin?.id ?? f.users[0]!.id,
    organizations: (base) => withBase([...f.organizations].sort((a, b) => a.id - b.id), base),
  };
}

// ---------------------------------------------------------------------------------------------
// Generator

export type GenerateOptions = {
  users: number;
  tickets: number;
  commentsPerTicket: number;
  seed?: number;
  /** Every Nth ticket's first comment carries an image attachment (0 = none). Default 7. */
  imageEvery?: number;
  /** Every Nth ticket's first comment also carries a banned .exe (0 = none). Default 50. */
  exeEvery?: number;
  /** Empty pages in the export streams, at these stream positions. Default none. */
  emptyPages?: { users?: number[]; tickets?: number[] };
  /** Every comment also carries a PDF of this many bytes (its own content each), served by the attachment host. Default 0 (none). */
  documentBytes?: number;
};

const USER_ID0 = 1_000_000;
const USERS_T0 = Date.UTC(2021, 0, 1) / 1000;
const TICKETS_T0 = Date.UTC(2022, 0, 1) / 1000;
const TAGS = ['billing', 'bug', 'feature', 'vip', 'refund', 'login', 'mobile', 'api', 'urgent', 'feedback'];
const STATUSES: Array<[ZTicket['status'], number]> = [
  ['new', 0.05],
  ['open', 0.25],
  ['pending', 0.35],
  ['hold', 0.4],
  ['solved', 0.7],
  ['closed', 0.98],
  ['deleted', 1],
];

/** Deterministic random in [0,1) from (seed, a, b). */
function rand(seed: number, a: number, b = 0): number {
  let h = (seed ^ Math.imul(a + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

export function generateZendesk(options: GenerateOptions): ZendeskSource {
  const N = Math.max(3, options.users);
  const M = options.tickets;
  const K = Math.max(1, Math.min(999, options.commentsPerTicket));
  const seed = options.seed ?? 1;
  const imageEvery = options.imageEvery ?? 7;
  const exeEvery = options.exeEvery ?? 50;
  const documentBytes = options.documentBytes ?? 0;

  const roleOf = (i: number): ZUser['role'] => (i === 0 ? 'admin' : i % 50 === 1 ? 'agent' : 'end-user');
  const agentCount = Math.floor((N - 2) / 50) + 1;
  const agentIndex = (r: number) => 1 + 50 * Math.floor(r * agentCount);
  const endUserIndex = (r: number) => {
    let k = Math.floor(r * N);
    while (roleOf(k) !== 'end-user') k = (k + 1) % N;
    return k;
  };

  const user = (i: number, base: string): ZUser => {
    const id = USER_ID0 + i;
    const role = roleOf(i);
    const t = iso(USERS_T0 + i * 30);
    const email =
      role === 'admin' ? 'admin@generated.test' : role === 'agent' ? `agent${i}@generated.test` : i % 97 === 0 ? null : `user${i}@customer${i % 500}.test`;
    return {
      id,
      url: `${base}/api/v2/users/${id}.json`,
      name: role === 'end-user' ? `Customer ${i}` : `Agent ${i}`,
      email,
      created_at: t,
      updated_at: t,
      time_zone: 'UTC',
      iana_time_zone: 'Etc/UTC',
      phone: null,
      locale: 'en-US',
      locale_id: 1,
      organization_id: null,
      role,
      verified: email !== null,
      external_id: null,
      tags: [],
      active: true,
      suspended: false,
      shared: false,
      notes: '',
      details: '',
      user_fields: {},
    };
  };

  const ticketParts = (j: number) => {
    const id = j + 1;
    const created = TICKETS_T0 + j * 60;
    const updated = created + K * 60;
    const r = rand(seed, 7, j);
    const status = STATUSES.find(([, p]) => r < p)![0];
    const requesterIdx = endUserIndex(rand(seed, 11, j));
    const assigneeIdx = agentIndex(rand(seed, 13, j));
    return { id, created, updated, status, requesterIdx, assigneeIdx };
  };

  const ticket = (j: number, base: string): ZTicket => {
    const p = ticketParts(j);
    const tagCount = Math.floor(rand(seed, 17, j) * 4);
    const tags = [...new Set(Array.from({ length: tagCount }, (_, n) => TAGS[Math.floor(rand(seed, 19 + n, j) * TAGS.length)]!))];
    const requesterId = USER_ID0 + p.requesterIdx;
    return {
      id: p.id,
      url: `${base}/api/v2/tickets/${p.id}.json`,
      external_id: null,
      via: { channel: 'email', source: { from: { address: user(p.requesterIdx, base).email, name: `Customer ${p.requesterIdx}` }, to: {}, rel: null } },
      created_at: iso(p.created),
      updated_at: iso(p.updated),
      generated_timestamp: p.updated,
      type: null,
      subject: `Generated ticket ${p.id}`,
      raw_subject: `Generated ticket ${p.id}`,
      description: `Question number ${p.id} from customer ${p.requesterIdx}.`,
      priority: null,
      status: p.status,
      recipient: 'support@generated.test',
      requester_id: requesterId,
      submitter_id: requesterId,
      assignee_id: p.status === 'new' ? null : USER_ID0 + p.assigneeIdx,
      organization_id: null,
      group_id: null,
      collaborator_ids: [],
      follower_ids: [],
      email_cc_ids: [],
      has_incidents: false,
      is_public: true,
      due_at: null,
      tags,
      custom_fields: [],
      satisfaction_rating: null,
      brand_id: 1,
      allow_attachments: true,
    };
  };

  const attachment = (base: string, ticketId: number, k: number, n: number, kind: 'png' | 'exe' | 'pdf'): ZAttachment => {
    const token = `g-${ticketId}-${k}-${n}-${kind}`;
    const file_name = kind === 'png' ? `screenshot-${ticketId}.png` : kind === 'pdf' ? `report-${ticketId}-${k}.pdf` : `tool-${ticketId}.exe`;
    const content_url = `${base}/attachments/token/${token}/?name=${encodeURIComponent(file_name)}`;
    return {
      id: ticketId * 10_000 + k * 10 + n,
      url: `${base}/api/v2/attachments/${ticketId * 10_000 + k * 10 + n}.json`,
      file_name,
      content_url,
      mapped_content_url: content_url,
      content_type: kind === 'png' ? 'image/png' : kind === 'pdf' ? 'application/pdf' : 'application/x-msdownload',
      size: kind === 'png' ? TINY_PNG.length : kind === 'pdf' ? documentBytes : 2048,
      width: kind === 'png' ? 1 : null,
      height: kind === 'png' ? 1 : null,
      inline: false,
      deleted: false,
      malware_access_override: false,
      malware_scan_result: 'malware_not_found',
      thumbnails: [],
    };
  };

  const comments = (ticketId: number, base: string): ZComment[] => {
    const j = ticketId - 1;
    if (j < 0 || j >= M) return [];
    const p = ticketParts(j);
    const out: ZComment[] = [];
    for (let k = 0; k < K; k++) {
      const fromAgent = k % 2 === 1;
      const system = k === K - 1 && K > 1 && ticketId % 10 === 0;
      const isNote = fromAgent && !system && ticketId % 3 === 0 && k === 1;
      const author = system ? -1 : fromAgent ? USER_ID0 + p.assigneeIdx : USER_ID0 + p.requesterIdx;
      const body =
        k === 0
          ? `Question number ${ticketId} from customer ${p.requesterIdx}.`
          : system
            ? 'This ticket was closed automatically.'
            : isNote
              ? `Internal note on ${ticketId}.`
              : fromAgent
                ? `Reply ${k} from the agent on ticket ${ticketId}.`
                : `Follow-up ${k} from the customer on ticket ${ticketId}.`;
      const attachments: ZAttachment[] = [];
      if (k === 0 && imageEvery > 0 && ticketId % imageEvery === 0) attachments.push(attachment(base, ticketId, k, 0, 'png'));
      if (k === 0 && exeEvery > 0 && ticketId % exeEvery === 0) attachments.push(attachment(base, ticketId, k, 1, 'exe'));
      if (documentBytes > 0) attachments.push(attachment(base, ticketId, k, 2, 'pdf'));
      out.push({
        id: ticketId * 1000 + k,
        type: 'Comment',
        author_id: author,
        body,
        html_body: `<div class="zd-comment" dir="auto"><p>${body}</p></div>`,
        plain_body: body,
        public: !isNote,
        attachments,
        audit_id: ticketId * 1000 + k + 500,
        via: { channel: system ? 'rule' : fromAgent ? 'web' : 'email', source: { from: {}, to: {}, rel: null } },
        created_at: iso(p.created + k * 60),
        metadata: { system: {}, custom: {} },
      });
    }
    return out;
  };

  return {
    userCount: N,
    userAt: user,
    userById: (id, base) => (id >= USER_ID0 && id < USER_ID0 + N ? user(id - USER_ID0, base) : undefined),
    ticketCount: M,
    ticketAt: ticket,
    ticketIndex: (id) => (id >= 1 && id <= M ? id - 1 : undefined),
    commentsFor: comments,
    blob: (token) => {
      if (!/^g-\d+-\d+-\d+-(png|exe|pdf)$/.test(token)) return undefined;
      if (token.endsWith('pdf')) {
        if (documentBytes === 0) return undefined;
        return { contentType: 'application/pdf', body: documentBody(documentBytes, token) };
      }
      return token.endsWith('png')
        ? { contentType: 'image/png', body: TINY_PNG }
        : { contentType: 'application/x-msdownload', body: Buffer.concat([Buffer.from('MZ'), deterministicBytes(2046, token)]) };
    },
    emptyPages: { users: options.emptyPages?.users ?? [], tickets: options.emptyPages?.tickets ?? [] },
    meId: USER_ID0,
    organizations: () => [],
  };
}
