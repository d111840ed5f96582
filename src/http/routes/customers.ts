import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withTransaction, type Pool } from '../../db/pool.ts';
import { listCustomers, type Customer, type CustomerIdentifier } from '../../domain/customers.ts';
import { tenantsOfCustomers, type TenantRef } from '../../domain/tenants.ts';
import { UPSERT_RESULTS, upsertCustomer } from '../../domain/upsert-customer.ts';
import { requireWorkspace } from '../auth.ts';
import { AppError, parseInput } from '../errors.ts';
import { pageInfoSchema, routeSchema, timestamp } from '../openapi.ts';
import { orderQuery, page, pageQuery } from '../pagination.ts';

const listQuery = pageQuery.extend(orderQuery('asc').shape).extend({ email: z.string().trim().min(1).max(320).optional() });

const name = z.string().trim().min(1).max(200);
const externalId = z.string().trim().min(1).max(200);
/** Plain's `EmailAddressInput`; `isVerified` is accepted as Plain requires it, but we never verify ownership (webhooks say false). */
const emailInput = z.object({ email: z.string().trim().min(3).max(320), isVerified: z.boolean() }).strict();

/** Plain's `CustomerIdentifierInput`: exactly one of the three. */
export const customerIdentifierInput = z
  .object({ customerId: z.string().trim().min(1).max(100).optional(), emailAddress: z.string().trim().min(3).max(320).optional(), externalId: externalId.optional() })
  .strict()
  .refine((v) => [v.customerId, v.emailAddress, v.externalId].filter((x) => x !== undefined).length === 1, { message: 'give exactly one of customerId, emailAddress, externalId' })
  .meta({ description: 'Exactly one of: our customer id, the email address (any case), or your externalId.' });

export function toCustomerIdentifier(v: z.infer<typeof customerIdentifierInput>): CustomerIdentifier {
  if (v.customerId !== undefined) return { customerId: v.customerId };
  if (v.emailAddress !== undefined) return { emailAddress: v.emailAddress };
  return { externalId: v.externalId! };
}

/**
 * Plain's `upsertCustomer` as JSON: `onCreate` when no customer matches `identifier`, else
 * `onUpdate`, whose fields are wrapped as `{ value }` (Plain's StringInput / OptionalStringInput):
 * an absent field is left as it is, `{ value: null }` clears a short name or external id.
 */
export const upsertCustomerBody = z
  .object({
    identifier: customerIdentifierInput,
    onCreate: z
      .object({ fullName: name, shortName: name.nullish(), email: emailInput, externalId: externalId.nullish() })
      .strict(),
    onUpdate: z
      .object({
        fullName: z.object({ value: name }).strict().optional(),
        shortName: z.object({ value: name.nullish() }).strict().optional(),
        email: emailInput.optional(),
        externalId: z.object({ value: externalId.nullish() }).strict().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const customerSchema = z.object({
  id: z.string(),
  email: z.string().nullable(),
  fullName: z.string(),
  shortName: z.string().nullable(),
  externalId: z.string().nullable(),
  company: z.object({ id: z.string(), name: z.string(), domain: z.string() }).nullable(),
  tenants: z.array(z.object({ id: z.string(), name: z.string(), externalId: z.string() })),
  createdAt: timestamp,
});
export const customerListResponse = z.object({ customers: z.array(customerSchema), pageInfo: pageInfoSchema });
export const upsertCustomerResponse = z.object({ result: z.enum(UPSERT_RESULTS), customer: customerSchema });

export function presentCustomer(c: Customer, tenants: TenantRef[]) {
  return {
    id: c.id,
    email: c.email,
    fullName: c.fullName,
    shortName: c.shortName,
    externalId: c.externalId,
    company: c.company,
    tenants: tenants.map((t) => ({ id: t.id, name: t.name, externalId: t.externalId })),
    createdAt: c.createdAt.toISOString(),
  };
}

const tags = ['Customers'];

export function customerRoutes(app: FastifyInstance, deps: { db: Pool }): void {
  app.get('/v1/customers', { schema: routeSchema({ tags, summary: 'List customers', querystring: listQuery, response: { 200: customerListResponse } }) }, async (request) => {
    const workspace = requireWorkspace(request);
    const query = parseInput(listQuery, request.query, 'query');
    const ctx = { db: deps.db, workspaceId: workspace.id };
    const { items, pageInfo } = await page(query, (after, limit) => listCustomers(ctx, { email: query.email, after, limit, order: query.order }));
    const tenants = await tenantsOfCustomers(ctx, items.map((c) => c.id));
    return { customers: items.map((c) => presentCustomer(c, tenants.get(c.id) ?? [])), pageInfo };
  });

  app.post(
    '/v1/customers',
    {
      schema: routeSchema({
        tags,
        summary: 'Create or update a customer (Plain’s upsertCustomer)',
        description:
          'Finds the customer by `identifier` (customerId, emailAddress or externalId). None: creates it from `onCreate` (201, `CREATED`, fires customer.customer_created; the company comes from the email domain). Found: applies `onUpdate` (200, `UPDATED` with customer.customer_updated, or `NOOP` when nothing changes, which fires nothing). A change that would give the email or externalId of another customer is refused with `customer_already_exists_with_email` / `customer_already_exists_with_external_id` (409).',
        body: upsertCustomerBody,
        response: { 200: upsertCustomerResponse, 201: upsertCustomerResponse },
      }),
    },
    async (request, reply) => {
      const workspace = requireWorkspace(request);
      const body = parseInput(upsertCustomerBody, request.body, 'body');
      const identifier = toCustomerIdentifier(body.identifier);
      const done = await withTransaction(deps.db, async (tx) => {
        const ctx = { db: tx, workspaceId: workspace.id, origin: 'api' as const };
        const upserted = await upsertCustomer(ctx, {
          identifier,
          onCreate: { fullName: body.onCreate.fullName, shortName: body.onCreate.shortName ?? null, email: body.onCreate.email.email, externalId: body.onCreate.externalId ?? null },
          onUpdate: {
            fullName: body.onUpdate.fullName?.value,
            shortName: body.onUpdate.shortName && (body.onUpdate.shortName.value ?? null),
            email: body.onUpdate.email?.email,
            externalId: body.onUpdate.externalId && (body.onUpdate.externalId.value ?? null),
          },
        });
        if (!upserted) return null;
        const tenants = await tenantsOfCustomers(ctx, [upserted.customer.id]);
        return { result: upserted.result, customer: presentCustomer(upserted.customer, tenants.get(upserted.customer.id) ?? []) };
      });
      if (!done) {
        throw new AppError('not_found', `Customer ${body.identifier.customerId} not found.`, [{ field: 'identifier.customerId', message: 'no such customer in this workspace', type: 'NOT_FOUND' }]);
      }
      return reply.status(done.result === 'CREATED' ? 201 : 200).send(done);
    },
  );
}
