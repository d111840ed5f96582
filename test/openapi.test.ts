import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { z } from 'zod';
import { pino } from 'pino';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_ADAPTERS } from '../importers/index.ts';
import { newId } from '../src/domain/ids.ts';
import { threadTokenKey } from '../src/domain/thread-token.ts';
import { createDeliveries, recordAttempts } from '../src/events/deliveries.ts';
import { buildApp } from '../src/http/app.ts';
import { registerOpenApi, routeSchema } from '../src/http/openapi.ts';
import { executeRun } from '../src/import/execute-run.ts';
import { startInboundWorker } from '../src/jobs/inbound-worker.ts';
import { startJobs, type Jobs } from '../src/queue/boss.ts';
import type { WorkspaceCredentials } from '../src/domain/workspaces.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { executeDeps, ZENDESK_CREDENTIALS } from './support/imports.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * GET /openapi.json against the app itself: every route is in it, it is OpenAPI 3.1 in shape, and
 * every answer this file receives (success and error, every documented operation at least once)
 * is valid against the document's schema for its status and media type.
 */

const INBOUND_DOMAIN = 'in.openapi.test';
const BASIC = 'postmark:openapi-test';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Schema = Record<string, unknown>;
type Operation = { requestBody?: { content: Record<string, { schema?: Schema }> }; responses: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>; parameters?: Array<{ name: string; in: string; required?: boolean }>; security?: Array<Record<string, string[]>> };
type Doc = { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema>; securitySchemes: Record<string, { type: string; scheme?: string }> }; security?: Array<Record<string, string[]>> };

let db: TestDatabase;
let jobs: Jobs;
let fake: FakeProvider;
let app: FastifyInstance;
let worker: Awaited<ReturnType<typeof startInboundWorker>>;
let ws: WorkspaceCredentials;
let doc: Doc;
/** OpenAPI's and JSON Schema's formats (ajv-formats is not a dependency of ours): known, checked only for date-time. */
const FORMATS = Object.fromEntries(
  ['date', 'time', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uri-reference', 'uuid', 'regex', 'int32', 'int64', 'float', 'double', 'byte', 'binary', 'password'].map((f) => [f, true as const]),
);
const ajv = new Ajv2020({ strict: false, allErrors: true, formats: { ...FORMATS, 'date-time': (s: string) => !Number.isNaN(Date.parse(s)) } });
/** `METHOD /path/{param}` of each documented operation a real answer was validated for, by status. */
const validated = new Map<string, Set<string>>();
/** `METHOD /path` of each operation whose accepted JSON body was checked against its documented request schema. */
const bodiesValidated = new Set<string>();

/** The documented operation a concrete URL is an instance of (`/v1/threads/th_1` -> `/v1/threads/{id}`), a static path first. */
function operationOf(url: string, method: string): { path: string; op: Operation } | null {
  const pathname = url.split('?')[0]!;
  const templates = Object.keys(doc.paths).sort((x, y) => Number(x.includes('{')) - Number(y.includes('{')));
  for (const path of templates) {
    const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const op = doc.paths[path]![method.toLowerCase()];
    if (op && pattern.test(pathname)) return { path, op };
  }
  return null;
}

/** The document's schema for an answer: the exact status, else its range (4XX), else default. */
function documentedAnswer(op: Operation, status: number) {
  return op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
}

function baseType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Sends a request and checks its answer against the document; returns the answer. */
async function call(options: InjectOptions & { method: string; url: string }): Promise<LightMyRequestResponse> {
  const res = await app.inject(options);
  const found = operationOf(options.url, options.method);
  expect(found, `${options.method} ${options.url} is documented`).not.toBeNull();
  const { path, op } = found!;
  const answer = documentedAnswer(op, res.statusCode);
  expect(answer, `${options.method} ${path} documents status ${res.statusCode}`).toBeDefined();
  if (!res.body) {
    expect(answer!.content, `${options.method} ${path} ${res.statusCode}: documented without a body`).toBeUndefined();
  } else {
    const type = baseType(res.headers['content-type'] as string);
    const media = answer!.content?.[type] ?? answer!.content?.['*/*'];
    expect(media, `${options.method} ${path} ${res.statusCode}: ${type} is documented (${Object.keys(answer!.content ?? {}).join(', ')})`).toBeDefined();
    if (type === 'application/json' && media!.schema && Object.keys(answer!.content!).length === 1) {
      const validate = ajv.compile({ ...media!.schema, components: doc.components });
      const ok = validate(res.json());
      expect(ok ? [] : validate.errors, `${options.method} ${path} ${res.statusCode} matches its documented schema`).toEqual([]);
    }
  }
  // A body the API took is one its documented request schema takes too.
  const requestSchema = op.requestBody?.content['application/json']?.schema;
  if (res.statusCode < 300 && requestSchema && options.payload && typeof options.payload === 'object' && !Buffer.isBuffer(options.payload)) {
    const validate = ajv.compile({ ...requestSchema, components: doc.components });
    const ok = validate(options.payload);
    expect(ok ? [] : validate.errors, `${options.method} ${path}: the accepted body matches its documented schema`).toEqual([]);
    bodiesValidated.add(`${options.method.toUpperCase()} ${path}`);
  }
  const key = `${options.method.toUpperCase()} ${path}`;
  if (!validated.has(key)) validated.set(key, new Set());
  validated.get(key)!.add(String(res.statusCode));
  return res;
}

const bearer = () => ({ authorization: `Bearer ${ws.apiKey}` });
const basic = { authorization: `Basic ${Buffer.from(BASIC).toString('base64')}` };

function mimeMessage(to: string, id: string, from = 'Jane Doe <jane@nike.com>'): string {
  return [
    `From: ${from}`,
    `To: ${to}`,
    'Subject: Invoice is wrong',
    `Message-ID: <${id}@nike.com>`,
    'Date: Mon, 30 Nov 2026 08:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello, the invoice total is wrong.',
    '--b1',
    'Content-Type: application/pdf; name="invoice.pdf"',
    'Content-Disposition: attachment; filename="invoice.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('%PDF-1.4\n%fake\n').toString('base64'),
    '--b1--',
    '',
  ].join('\r\n');
}

async function settled(id: string): Promise<string> {
  for (let i = 0; i < 800; i++) {
    const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM inbound_emails WHERE id = $1', [id]);
    if (rows[0] && rows[0].status !== 'received') return rows[0].status;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`inbound email ${id} was not processed`);
}

/** Every route Fastify has, as `METHOD /path` with `:param`, from its route tree. */
function registeredRoutes(instance: FastifyInstance): string[] {
  const routes: string[] = [];
  const stack: Array<{ depth: number; path: string }> = [];
  for (const line of instance.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    while (stack.length > depth) stack.pop();
    const path = (stack.at(-1)?.path ?? '') + m[2]!;
    stack.push({ depth, path });
    for (const method of m[3]?.split(', ') ?? []) routes.push(`${method} ${path}`);
  }
  return routes;
}

beforeAll(async () => {
  db = await createTestDatabase();
  jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
  fake = await startFakeProvider({ rateLimit: false });
  app = await buildApp({
    pool: db.pool,
    boss: jobs.boss,
    inboundDomain: INBOUND_DOMAIN,
    inboundBasicAuth: BASIC,
    secretsKey: TEST_SECRETS_KEY,
    webhookAllowPrivate: true,
    importAdapters: IMPORT_ADAPTERS,
    importAllowPrivate: true,
  });
  await app.ready();
  worker = await startInboundWorker(jobs.boss, { pool: db.pool, boss: jobs.boss, inboundDomain: INBOUND_DOMAIN, threadTokenKey: threadTokenKey(TEST_SECRETS_KEY) }, pino({ level: 'silent' }));
  ws = await makeWorkspace(db.pool, 'Acme', 'help@acme.com');
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await app?.close();
  await jobs?.stop();
  await fake?.close();
  await db?.close();
});

describe('the OpenAPI document', () => {
  it('is served without a key, as OpenAPI 3.1 with both security schemes', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      inboundBasic: expect.objectContaining({ type: 'http', scheme: 'basic' }),
    });
    expect(doc.security).toEqual([{ apiKey: [] }]);
    expect(doc.components.schemas.Error).toMatchObject({ type: 'object', required: ['error'] });
  });

  it('has every route Fastify serves, with its method (but itself, /docs and the console)', () => {
    const routes = registeredRoutes(app).filter((r) => !r.startsWith('HEAD ') && !/ (\/openapi\.json|\/docs|\/console)(\/|$)/.test(r));
    // The tree walk itself: it found the routes we know are there.
    expect(routes).toEqual(expect.arrayContaining(['GET /healthz', 'PATCH /v1/workspace', 'GET /v1/threads/:id', 'POST /inbound/mime', 'POST /v1/import-connections/:id/runs']));
    expect(routes.length).toBeGreaterThan(35);
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => (METHODS as readonly string[]).includes(k))
        .map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
    );
    expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('is OpenAPI 3.1 in shape: operations, parameters, responses, security, references and schemas', () => {
    const seen = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path).toMatch(/^\//);
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(METHODS, where).toContain(method);
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        const inPath = (op.parameters ?? []).filter((p) => p.in === 'path');
        expect(inPath.map((p) => p.name).sort(), `${where}: path parameters`).toEqual(templated.sort());
        for (const p of op.parameters ?? []) {
          expect(['query', 'header', 'path', 'cookie'], where).toContain(p.in);
          if (p.in === 'path') expect(p.required, `${where}: ${p.name} required`).toBe(true);
          expect(seen.has(`${where} ${p.in} ${p.name}`), `${where}: ${p.name} once`).toBe(false);
          seen.add(`${where} ${p.in} ${p.name}`);
        }
        expect(Object.keys(op.responses).length, where).toBeGreaterThan(0);
        for (const [status, answer] of Object.entries(op.responses)) {
          expect(status, where).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
          expect(answer.description, `${where} ${status}`).toEqual(expect.any(String));
        }
        expect(op.responses['4XX']?.content?.['application/json']?.schema, `${where}: Plain's error shape`).toEqual({ $ref: '#/components/schemas/Error' });
        for (const requirement of op.security ?? doc.security ?? []) {
          for (const name of Object.keys(requirement)) expect(Object.keys(doc.components.securitySchemes), where).toContain(name);
        }
      }
    }
    // Every reference resolves, and every schema in the document compiles as JSON Schema 2020-12.
    const json = JSON.stringify(doc);
    for (const [, ref] of json.matchAll(/"\$ref":"([^"]+)"/g)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref!.slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
    for (const name of Object.keys(doc.components.schemas)) expect(json, `component ${name} is used`).toContain(`"$ref":"#/components/schemas/${name}"`);
    const schemas: Schema[] = [];
    const collect = (node: unknown, key?: string): void => {
      if (Array.isArray(node)) return node.forEach((n) => collect(n));
      if (!node || typeof node !== 'object') return;
      if (key === 'schema') schemas.push(node as Schema);
      else for (const [k, v] of Object.entries(node)) collect(v, k);
    };
    collect(doc.paths);
    expect(schemas.length).toBeGreaterThan(50);
    const strict = new Ajv2020({ strict: true, strictRequired: false, formats: { ...FORMATS, 'date-time': true } });
    const asDefs = <T,>(x: T): T => JSON.parse(JSON.stringify(x).replaceAll('#/components/schemas/', 'components#/$defs/'));
    strict.addSchema({ $id: 'components', $defs: asDefs(doc.components.schemas) });
    for (const text of new Set(schemas.map((x) => JSON.stringify(asDefs(x))))) expect(() => strict.compile(JSON.parse(text)), text.slice(0, 200)).not.toThrow();
  });

  it('documents Bearer auth on the API, Basic on the inbound webhooks and none on health and metrics', () => {
    expect(doc.paths['/v1/threads']!.get!.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/inbound/postmark']!.post!.security).toEqual([{ inboundBasic: [] }]);
    expect(doc.paths['/inbound/mime']!.post!.security).toEqual([{ inboundBasic: [] }]);
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
    expect(doc.paths['/metrics']!.get!.security).toEqual([]);
  });
});

describe('route schemas', () => {
  it('are documentation only: a body the schema would refuse still reaches the handler, the answer keeps fields the schema lacks', async () => {
    const bare = Fastify();
    await registerOpenApi(bare);
    const body = z.object({ n: z.number() }).strict();
    bare.post('/echo', { schema: routeSchema({ tags: ['t'], summary: 's', body, response: { 200: z.object({ n: z.number() }) } }) }, async (request) => ({ ...(request.body as object), extra: true }));
    const res = await bare.inject({ method: 'POST', url: '/echo', payload: { n: 'not a number', other: 1 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ n: 'not a number', other: 1, extra: true });
    await bare.close();
  });

  it('must be zod: a JSON-schema one fails at startup, naming the route', async () => {
    const bare = Fastify();
    await registerOpenApi(bare);
    bare.post('/json-schema', { schema: { body: { type: 'object' } } }, async () => ({}));
    await expect(bare.ready()).rejects.toThrow(/\/json-schema: declare its request schema with zod/);
    await bare.close();
  });
});

describe('/docs', () => {
  it('renders the document with assets served by intake only', async () => {
    for (const url of ['/docs', '/docs/']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      const refs = [...res.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(refs.length).toBeGreaterThan(3);
      for (const ref of refs) {
        expect(ref, 'a local asset').not.toMatch(/^([a-z]+:)?\/\//i);
        const asset = await app.inject({ method: 'GET', url: new URL(ref, `http://intake${url}`).pathname });
        expect(asset.statusCode, ref).toBe(200);
      }
    }
    // The viewer loads the document from here and calls no online validator.
    const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.body).toContain('validatorUrl: null');
    expect(init.body).toContain(`url: resolveUrl('./json')`);
    // Only a comment in it names another site; no script, style or URL setting does.
    expect(init.body.replace(/\/\/ .*$/gm, '')).not.toMatch(/https?:\/\//);
    expect((await app.inject({ method: 'GET', url: '/docs/json' })).json()).toEqual(doc);
  });
});

describe('real answers match the documented schemas', () => {
  let threadId = '';
  let attachmentId = '';
  let rejectedId = '';

  it('inbound webhooks and what they became', async () => {
    const received = await call({ method: 'POST', url: '/inbound/mime', headers: { ...basic, 'content-type': 'message/rfc822' }, payload: mimeMessage(`${ws.workspace.inboundToken}@${INBOUND_DOMAIN}`, 'm1') });
    expect(received.statusCode).toBe(200);
    const emailId = received.json().inboundEmailId;
    expect(await settled(emailId)).toBe('processed');
    // No usable sender: rejected, in the workspace, so replayable there.
    const stray = await call({ method: 'POST', url: '/inbound/mime', headers: { ...basic, 'content-type': 'message/rfc822' }, payload: mimeMessage(`${ws.workspace.inboundToken}@${INBOUND_DOMAIN}`, 'm2', 'nobody') });
    rejectedId = stray.json().inboundEmailId;
    expect(await settled(rejectedId)).toBe('rejected');
    const postmark = {
      MessageID: 'pm-1',
      From: 'jane@nike.com',
      FromFull: { Email: 'jane@nike.com', Name: 'Jane' },
      To: `${ws.workspace.inboundToken}@${INBOUND_DOMAIN}`,
      OriginalRecipient: `${ws.workspace.inboundToken}@${INBOUND_DOMAIN}`,
      Subject: 'Another',
      TextBody: 'Hi',
      Headers: [{ Name: 'Message-ID', Value: '<pm-1@nike.com>' }],
    };
    const pm = await call({ method: 'POST', url: '/inbound/postmark', headers: { ...basic, 'content-type': 'application/json' }, payload: postmark });
    expect(pm.statusCode).toBe(200);
    expect((await call({ method: 'POST', url: '/inbound/postmark', headers: { ...basic, 'content-type': 'application/json' }, payload: postmark })).json().status).toBe('duplicate');
    // Refusals: Plain's error shape with fields, as documented for 4xx.
    expect((await call({ method: 'POST', url: '/inbound/postmark', headers: { ...basic, 'content-type': 'application/json' }, payload: { From: 'x@y.z' } })).statusCode).toBe(400);
    expect((await call({ method: 'POST', url: '/inbound/mime', headers: { 'content-type': 'message/rfc822' }, payload: 'x' })).statusCode).toBe(401);

    const list = await call({ method: 'GET', url: '/v1/inbound-emails', headers: bearer() });
    expect(list.json().inboundEmails.length).toBeGreaterThanOrEqual(2);
    const one = await call({ method: 'GET', url: `/v1/inbound-emails/${emailId}`, headers: bearer() });
    threadId = one.json().inboundEmail.threadId;
    expect(threadId).toEqual(expect.any(String));
    const raw = await call({ method: 'GET', url: `/v1/inbound-emails/${emailId}/raw`, headers: bearer() });
    expect(raw.body).toContain('Message-ID: <m1@nike.com>');
    expect((await call({ method: 'POST', url: `/v1/inbound-emails/${emailId}/replay`, headers: bearer() })).statusCode).toBe(409);
  });

  it('the replay of a rejected email', async () => {
    const replay = await call({ method: 'POST', url: `/v1/inbound-emails/${rejectedId}/replay`, headers: bearer() });
    expect(replay.statusCode).toBe(202);
    expect(replay.json().inboundEmail.status).toBe('received');
  });

  it('workspace, customers, tenants, threads and attachments', async () => {
    expect((await call({ method: 'GET', url: '/v1/workspace', headers: bearer() })).statusCode).toBe(200);
    expect((await call({ method: 'PATCH', url: '/v1/workspace', headers: bearer(), payload: { forwarderAddresses: ['boss@acme.com'] } })).json().workspace.forwarderAddresses).toEqual(['boss@acme.com']);
    const bad = await call({ method: 'PATCH', url: '/v1/workspace', headers: bearer(), payload: { name: 5, color: 'red' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['(body)', 'name']);
    expect((await call({ method: 'GET', url: '/v1/workspace' })).statusCode).toBe(401);

    expect((await call({ method: 'GET', url: '/v1/customers?first=1', headers: bearer() })).json().customers).toHaveLength(1);
    expect((await call({ method: 'GET', url: '/v1/customers?first=0', headers: bearer() })).statusCode).toBe(400);
    expect((await call({ method: 'GET', url: '/v1/tenants', headers: bearer() })).statusCode).toBe(200);
    expect((await call({ method: 'GET', url: '/v1/threads?order=desc', headers: bearer() })).json().threads.length).toBeGreaterThan(0);
    const thread = await call({ method: 'GET', url: `/v1/threads/${threadId}`, headers: bearer() });
    const attachment = thread.json().thread.entries.flatMap((e: { attachments: Array<{ id: string; status: string }> }) => e.attachments).find((a: { status: string }) => a.status === 'accepted');
    expect(attachment).toBeDefined();
    attachmentId = attachment.id;
    expect((await call({ method: 'GET', url: `/v1/threads/${newId('thread')}`, headers: bearer() })).statusCode).toBe(404);
    const file = await call({ method: 'GET', url: `/v1/attachments/${attachmentId}/content`, headers: bearer() });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('application/pdf');
  });

  it('the API’s writes: customer upsert, thread create, note, status', async () => {
    const upsert = { identifier: { emailAddress: 'writer@initech.com' }, onCreate: { fullName: 'Writer', email: { email: 'writer@initech.com', isVerified: true } } };
    const created = await call({ method: 'POST', url: '/v1/customers', headers: bearer(), payload: upsert });
    expect(created.statusCode).toBe(201);
    expect((await call({ method: 'POST', url: '/v1/customers', headers: bearer(), payload: upsert })).json().result).toBe('NOOP');
    expect((await call({ method: 'POST', url: '/v1/customers', headers: bearer(), payload: { onCreate: {} } })).statusCode).toBe(400);
    const body = { customerIdentifier: { customerId: created.json().customer.id }, title: 'Form', message: { text: 'Hi', attachments: [{ fileName: 'x.exe', contentBase64: 'AAAA' }] }, labelNames: ['Form'], externalId: 'f-1' };
    const thread = await call({ method: 'POST', url: '/v1/threads', headers: bearer(), payload: body });
    expect(thread.statusCode).toBe(201);
    expect((await call({ method: 'POST', url: '/v1/threads', headers: bearer(), payload: body })).statusCode).toBe(409);
    const id = thread.json().thread.id;
    expect((await call({ method: 'POST', url: `/v1/threads/${id}/notes`, headers: bearer(), payload: { text: 'Internal' } })).statusCode).toBe(201);
    expect((await call({ method: 'PATCH', url: `/v1/threads/${id}`, headers: bearer(), payload: { status: 'DONE' } })).json().thread.status).toBe('DONE');
    expect((await call({ method: 'PATCH', url: `/v1/threads/${newId('thread')}`, headers: bearer(), payload: { status: 'DONE' } })).statusCode).toBe(404);
  });

  it('tenants as an import leaves them, and the import API', async () => {
    const created = await call({ method: 'POST', url: '/v1/import-connections', headers: bearer(), payload: { provider: 'zendesk', credentials: ZENDESK_CREDENTIALS, settings: { subdomain: 'acme', baseUrl: fake.url } } });
    expect(created.statusCode).toBe(201);
    const connection = created.json().importConnection;
    // The first run, driven here as the job worker would.
    const deps = executeDeps(db.pool);
    for (let i = 0; i < 200; i++) if ((await executeRun(deps, connection.latestRun.id)).status !== 'continue') break;
    const run = await call({ method: 'GET', url: `/v1/import-runs/${connection.latestRun.id}`, headers: bearer() });
    expect(run.json().importRun.status).toBe('succeeded');
    expect(Object.keys(run.json().importRun.streams).length).toBeGreaterThan(0);
    expect((await call({ method: 'GET', url: '/v1/import-connections', headers: bearer() })).json().importConnections).toHaveLength(1);
    expect((await call({ method: 'GET', url: `/v1/import-connections/${connection.id}`, headers: bearer() })).json().importConnection.latestRun.status).toBe('succeeded');
    expect((await call({ method: 'PATCH', url: `/v1/import-connections/${connection.id}`, headers: bearer(), payload: { credentials: ZENDESK_CREDENTIALS } })).statusCode).toBe(200);
    expect((await call({ method: 'POST', url: `/v1/import-connections/${connection.id}/runs`, headers: bearer() })).statusCode).toBe(201);
    expect((await call({ method: 'POST', url: `/v1/import-connections/${connection.id}/runs`, headers: bearer() })).statusCode).toBe(409);
    expect((await call({ method: 'DELETE', url: `/v1/import-connections/${connection.id}`, headers: bearer() })).json().importConnection.status).toBe('disconnected');
    const tenants = await call({ method: 'GET', url: '/v1/tenants', headers: bearer() });
    expect(tenants.json().tenants.length).toBeGreaterThan(0);
    expect((await call({ method: 'GET', url: '/v1/customers', headers: bearer() })).json().customers.some((c: { tenants: unknown[] }) => c.tenants.length > 0)).toBe(true);
  });

  it('webhook targets, versions and deliveries with their attempts', async () => {
    expect((await call({ method: 'GET', url: '/v1/webhook-versions', headers: bearer() })).statusCode).toBe(200);
    const created = await call({ method: 'POST', url: '/v1/webhook-targets', headers: bearer(), payload: { url: 'http://user:pw@127.0.0.1:9/hook', eventTypes: ['thread.thread_created'] } });
    expect(created.statusCode).toBe(201);
    const target = created.json().webhookTarget;
    expect((await call({ method: 'POST', url: '/v1/webhook-targets', headers: bearer(), payload: { url: 'http://127.0.0.1:9/hook', eventTypes: ['no.such'] } })).statusCode).toBe(400);
    expect((await call({ method: 'GET', url: '/v1/webhook-targets', headers: bearer() })).json().webhookTargets).toHaveLength(1);
    expect((await call({ method: 'GET', url: `/v1/webhook-targets/${target.id}`, headers: bearer() })).statusCode).toBe(200);
    expect((await call({ method: 'PATCH', url: `/v1/webhook-targets/${target.id}`, headers: bearer(), payload: { enabled: false } })).json().webhookTarget.enabled).toBe(false);
    expect((await call({ method: 'POST', url: `/v1/webhook-targets/${target.id}/rotate-secret`, headers: bearer() })).json().webhookTarget.signingSecret).toEqual(expect.any(String));
    // A delivery with a failed attempt, as the delivery worker records them.
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM events WHERE workspace_id = $1 ORDER BY id LIMIT 1', [ws.workspace.id]);
    await createDeliveries(db.pool, [{ workspaceId: ws.workspace.id, eventId: rows[0]!.id, targetId: target.id }]);
    const { rows: deliveries } = await db.pool.query<{ id: string }>('SELECT id FROM webhook_deliveries WHERE target_id = $1', [target.id]);
    await recordAttempts(db.pool, [
      { id: newId('webhookAttempt'), deliveryId: deliveries[0]!.id, workspaceId: ws.workspace.id, number: 1, attemptedAt: new Date(), statusCode: 500, durationMs: 12, error: 'HTTP 500', status: 'pending', nextAttemptAt: new Date(Date.now() + 60_000) },
    ]);
    const listed = await call({ method: 'GET', url: `/v1/webhook-targets/${target.id}/deliveries`, headers: bearer() });
    expect(listed.json().deliveries[0].attempts).toHaveLength(1);
    expect((await call({ method: 'DELETE', url: `/v1/webhook-targets/${target.id}`, headers: bearer() })).statusCode).toBe(204);
    expect((await call({ method: 'DELETE', url: `/v1/webhook-targets/${target.id}`, headers: bearer() })).statusCode).toBe(404);
  });

  it('auto-responses', async () => {
    const created = await call({ method: 'POST', url: '/v1/auto-responses', headers: bearer(), payload: { messageText: 'We got it.', channels: ['EMAIL'] } });
    expect(created.statusCode).toBe(201);
    const id = created.json().autoResponse.id;
    expect((await call({ method: 'GET', url: '/v1/auto-responses', headers: bearer() })).json().autoResponses).toHaveLength(1);
    expect((await call({ method: 'PATCH', url: `/v1/auto-responses/${id}`, headers: bearer(), payload: { enabled: false } })).statusCode).toBe(200);
    expect((await call({ method: 'PATCH', url: `/v1/auto-responses/${id}`, headers: bearer(), payload: { order: 'first' } })).statusCode).toBe(400);
    expect((await call({ method: 'DELETE', url: `/v1/auto-responses/${id}`, headers: bearer() })).statusCode).toBe(204);
  });

  it('health and metrics', async () => {
    expect((await call({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await call({ method: 'GET', url: '/metrics' })).body).toContain('intake_http_requests_total');
  });

  it('every documented operation was answered with a success validated above', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    const withoutSuccess = operations.filter((o) => ![...(validated.get(o) ?? [])].some((s) => s.startsWith('2')));
    expect(withoutSuccess).toEqual([]);
    // And every JSON body the API took, documented as one its schema takes.
    const withJsonBody = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => op.requestBody?.content['application/json'])
        .map(([m]) => `${m.toUpperCase()} ${path}`),
    );
    expect(withJsonBody.filter((o) => !bodiesValidated.has(o))).toEqual([]);
  });
});
