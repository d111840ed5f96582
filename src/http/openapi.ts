import { STATUS_CODES } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { $ZodType } from 'zod/v4/core';
import { ERRORS, type ErrorCode } from './errors.ts';

/**
 * `GET /openapi.json` and `/docs`: the API described from the zod schemas its routes declare in
 * their `schema` option. The schemas there are documentation only: handlers still validate with
 * `parseInput` (so bad input keeps Plain's error shape and field names exactly), and responses
 * are serialized as before with JSON.stringify (a zod serializer would drop undocumented fields;
 * test/openapi.test.ts checks real responses against the document instead).
 */

/** Schemas shown once under components/schemas and referenced by every route. */
const components = z.registry<{ id: string; description?: string }>();

const fieldError = z.object({
  field: z.string().meta({ description: 'The field at fault, as a dotted path (`query.first`, `eventTypes.0`), or `(body)` for the whole body.' }),
  message: z.string(),
  type: z.enum(['VALIDATION', 'REQUIRED', 'NOT_FOUND']),
});

/** Plain's error shape; every 4xx and 5xx answer of the API is one. */
export const errorResponse = z.object({
  error: z.object({
    message: z.string(),
    type: z.enum([...new Set(Object.values(ERRORS).map((e) => e.type))] as [string, ...string[]]),
    code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
    fields: z.array(fieldError),
  }),
});
components.add(errorResponse, { id: 'Error', description: "Plain's error shape: `code` is stable (see the error catalogue), `fields` names each bad input field." });

export const pageInfoSchema = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() });
components.add(pageInfoSchema, { id: 'PageInfo', description: 'Pass `endCursor` as `after` for the next page.' });

/** An ISO 8601 instant as the API writes it (`Date#toISOString`). */
export const timestamp = z.iso.datetime();

export const SECURITY = Object.freeze({
  apiKey: [{ apiKey: [] }],
  inboundBasic: [{ inboundBasic: [] }],
  none: [],
});

type RouteDoc = {
  summary: string;
  tags: string[];
  description?: string;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  /** The body's media types when not JSON. */
  consumes?: string[];
  /**
   * Success answers by status: a zod schema of the JSON body, `z.undefined()` for none (204), or
   * `{ description, content: { [mediaType]: { schema } } }`. Error answers are added (4xx, 5xx).
   */
  response: Record<number, unknown>;
  security?: ReadonlyArray<Record<string, string[]>>;
};

/**
 * A route's `schema` option: what it takes and answers, for the document. Use the same zod
 * schemas the handler passes to `parseInput`. Security defaults to the workspace API key.
 */
export function routeSchema(doc: RouteDoc): FastifySchema {
  return {
    ...doc,
    security: [...(doc.security ?? SECURITY.apiKey)],
    response: {
      ...Object.fromEntries(Object.entries(doc.response).map(([status, answer]) => [status, describeAnswer(Number(status), answer)])),
      '4xx': { description: 'Refused: bad input, unauthenticated, not found, conflict (see `error.code`).', content: { 'application/json': { schema: errorResponse } } },
      '5xx': { description: 'Failed on our side, or the service is unavailable: retry later.', content: { 'application/json': { schema: errorResponse } } },
    },
  } as FastifySchema;
}

/** A JSON body described by its status's name; an empty one (204) has no content. */
function describeAnswer(status: number, answer: unknown): unknown {
  if (!(answer instanceof $ZodType)) return answer;
  const description = STATUS_CODES[status] ?? String(status);
  if (answer._zod.def.type === 'undefined') return z.undefined().meta({ description });
  return { description, content: { 'application/json': { schema: answer } } };
}

/** Routes not in the document: the document itself, its viewer, the operator console's pages. */
const UNDOCUMENTED = [/^\/openapi\.json$/, /^\/docs(\/|$)/, /^\/console(\/|$)/];

const zodOnly = (what: string) => (schema: unknown, route: string) => {
  if (!(schema instanceof $ZodType)) throw new Error(`${route}: declare its ${what} schema with zod (see src/http/openapi.ts)`);
};

/**
 * The transform adds an input twin (`ErrorInput`) of every component; only what a route refers
 * to is kept, so the viewer lists the schemas the API uses.
 */
function withoutUnusedComponents<T>(doc: T): T {
  const { components } = doc as { components?: { schemas?: Record<string, unknown> } };
  const schemas = components?.schemas;
  if (!schemas) return doc;
  const text = JSON.stringify({ ...doc, components: { ...components, schemas: {} } }) + JSON.stringify(schemas);
  const used = Object.keys(schemas).filter((name) => text.includes(`"#/components/schemas/${name}"`));
  return { ...doc, components: { ...components, schemas: Object.fromEntries(used.map((name) => [name, schemas[name]])) } };
}

/**
 * Must run before any route is added: swagger collects routes as they are added, and the
 * compilers below apply to routes added after them.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  // Documentation only: validation stays in the handler (parseInput), whatever the schema says.
  app.setValidatorCompiler(({ schema, url }) => {
    zodOnly('request')(schema, url);
    return () => true;
  });
  // As Fastify answers without a schema: every field the handler returns, nothing dropped or coerced.
  app.setSerializerCompiler(({ schema, url }) => {
    const inner = (schema as { properties?: unknown }).properties instanceof $ZodType ? (schema as { properties: unknown }).properties : schema;
    zodOnly('response')(inner, url);
    return (data) => JSON.stringify(data);
  });

  const transform = createJsonSchemaTransform({ schemaRegistry: components });
  const componentsObject = createJsonSchemaTransformObject({ schemaRegistry: components });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'intake',
        version: '1',
        description:
          "Inbound email and helpdesk imports into a Plain-shaped support model. Errors answer in Plain's shape `{ error: { message, type, code, fields } }`.",
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'The workspace API key: `Authorization: Bearer <key>`.' },
          inboundBasic: { type: 'http', scheme: 'basic', description: 'INBOUND_BASIC_AUTH (`user:pass`), as configured at the inbound mail provider.' },
        },
      },
      security: SECURITY.apiKey.map((s) => ({ ...s })),
    },
    transform: (doc) => (UNDOCUMENTED.some((re) => re.test(doc.url)) ? { schema: { hide: true } as FastifySchema, url: doc.url } : transform(doc)),
    transformObject: (doc) => withoutUnusedComponents(componentsObject(doc)),
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    // No call to swagger.io's online validator: everything /docs needs is served by intake.
    uiConfig: { validatorUrl: null },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
