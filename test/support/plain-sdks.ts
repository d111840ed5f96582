import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import * as sdk20240918 from 'plain-sdk-2024-09-18';
import * as sdk20250806 from 'plain-sdk-2025-08-06';
import * as sdk20260227 from 'plain-sdk-2026-02-27';
import type { WebhookVersion } from '../../src/events/webhook-versions.ts';

/**
 * The release of Plain's SDK that validates each webhook schema version (npm aliases of
 * @team-plain/typescript-sdk 5.10.3, 5.11.0 and 5.12.1): each accepts its own version only.
 */
export const PLAIN_SDKS: Record<WebhookVersion, typeof sdk20260227> = {
  '2024-09-18': sdk20240918 as unknown as typeof sdk20260227,
  '2025-08-06': sdk20250806 as unknown as typeof sdk20260227,
  '2026-02-27': sdk20260227,
};
const PACKAGES: Record<WebhookVersion, string> = { '2024-09-18': 'plain-sdk-2024-09-18', '2025-08-06': 'plain-sdk-2025-08-06', '2026-02-27': 'plain-sdk-2026-02-27' };

type Schema = { [key: string]: unknown };
const require = createRequire(import.meta.url);

/** The JSON schema that release bundles (its dist inlines this same file). */
export function plainSchema(version: WebhookVersion): Schema {
  return JSON.parse(readFileSync(require.resolve(`${PACKAGES[version]}/src/webhooks/webhook-schema.json`), 'utf8'));
}

// Fields we add that Plain's schema does not name (it allows extra fields): see plain-payloads.ts.
const OUR_EXTRAS: Record<string, string[]> = { customer: ['company'], thread: ['channel'] };

/** The schema with every object closed: a field the version does not define is an error. */
function closed(version: WebhookVersion): Schema {
  const schema = plainSchema(version);
  const close = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(close);
    if (!node || typeof node !== 'object') return;
    const obj = node as Schema;
    if (obj.properties && typeof obj.properties === 'object') obj.additionalProperties = false;
    Object.values(obj).forEach(close);
  };
  close(schema);
  const definitions = schema.definitions as Record<string, { properties: Record<string, unknown> }>;
  for (const [name, fields] of Object.entries(OUR_EXTRAS)) for (const field of fields) definitions[name]!.properties[field] = {};
  return schema;
}

type Validator = ReturnType<Ajv['compile']>;
const strictValidators = new Map<string, Validator>();

// One event type's payload definition in place of the schema's anyOf over all of them, so the
// errors are about that payload only (as the SDK does for its own messages).
function strictValidator(version: WebhookVersion, eventType: string): Validator {
  const key = `${version} ${eventType}`;
  let validate = strictValidators.get(key);
  if (!validate) {
    const schema = closed(version);
    const definitions = schema.definitions as Record<string, { properties?: { eventType?: { const?: string } } }>;
    const name = Object.keys(definitions).find((n) => definitions[n]!.properties?.eventType?.const === eventType);
    if (!name) throw new Error(`${version} defines no payload for ${eventType}`);
    schema.properties = { ...(schema.properties as object), payload: { $ref: `#/definitions/${name}` } };
    validate = new Ajv({ strict: false, validateFormats: false, allErrors: true }).compile(schema);
    strictValidators.set(key, validate);
  }
  return validate;
}

/** The fields of `body` that `version`'s schema does not define (beyond our documented extras). */
export function fieldsOutsideSchema(version: WebhookVersion, body: unknown): string[] {
  const validate = strictValidator(version, String((body as { type?: unknown } | null)?.type));
  if (validate(body)) return [];
  const outside = (validate.errors ?? []).filter((e) => e.keyword === 'additionalProperties');
  if (outside.length === 0) throw new Error(`not a ${version} body: ${JSON.stringify(validate.errors)}`);
  return [...new Set(outside.map((e) => `${e.instancePath}/${String(e.params.additionalProperty)}`))].sort();
}
