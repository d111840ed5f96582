import type { Queryable } from '../db/pool.ts';
import { importAttachments, type ImportedAttachment } from '../domain/attachments.ts';
import { importCustomers, normaliseEmail, type ImportedPerson } from '../domain/customers.ts';
import { newId } from '../domain/ids.ts';
import { importLabels, importThreadLabels } from '../domain/labels.ts';
import type { WriteContext } from '../domain/origin.ts';
import { importTenantCustomers, importTenants } from '../domain/tenants.ts';
import { clip, stripNul } from '../domain/text.ts';
import { importThreads, type ImportedThread } from '../domain/threads.ts';
import { importTimelineEntries, type ImportedEntry } from '../domain/timeline-entries.ts';
import type { LedgerEntry, PersonRecord, RecordFailure, RecordType, ThreadRecord } from './adapter.ts';
import type { FetchedEntry, FetchedPage } from './fetch-attachments.ts';
import { insertLedgerRows, ledgerKey, lookupLedger, type LedgerScope, type LedgerType, type NewLedgerRow } from './ledger.ts';
import { addCount, type RunCounts } from './counts.ts';
import { ATTACHMENT_NOT_FETCHED } from './attachment-precheck.ts';

/**
 * Writes one page of source records, create-only, in the caller's transaction and in a fixed
 * number of statements whatever the page's size: one ledger lookup, then one multi-row insert
 * per kind of row, then the ledger rows. Dependency order within the page: tenants, people,
 * threads, labels, entries, attachments.
 */

const MAX_EXCERPT = 500;

export type PageResult = { counts: RunCounts; failures: RecordFailure[] };

export async function writePage(
  db: Queryable,
  scope: LedgerScope,
  stream: string,
  page: FetchedPage,
  countNames: Readonly<Record<RecordType, string>>,
): Promise<PageResult> {
  const ctx: WriteContext = { db, workspaceId: scope.workspaceId, origin: 'import' };
  const counts: RunCounts = {};
  const count = (type: RecordType | 'agent', what: 'created' | 'linked' | 'skipped' | 'failed', n = 1) =>
    addCount(counts, type === 'agent' ? 'agents' : countNames[type], what, n);
  const failures: RecordFailure[] = [...(page.failures ?? [])];
  const fail = (f: RecordFailure) => failures.push(f);
  const newRows = new Map<string, NewLedgerRow>();
  const record = (row: NewLedgerRow) => newRows.set(ledgerKey(row.type, row.sourceId), row);

  const people = dedupe(page.people ?? []);
  const tenants = dedupe(page.tenants ?? []);
  const threads = dedupe(page.threads ?? []);
  const entries = dedupe(page.entries ?? []);
  // Each thread's labels with their ledger keys: the label by its lower-cased name, and its placement on the thread.
  const labelsOf = new Map(
    threads.map((t) => [
      t.sourceId,
      firstSpellings(t.labels.map((l) => clip(stripNul(l).trim(), 200)).filter((l) => l !== '')).map((name) => ({
        name,
        labelKey: name.toLowerCase(),
        placementKey: `${t.sourceId}/${name.toLowerCase()}`,
      })),
    ]),
  );

  const keys: Array<[LedgerType, string]> = [];
  for (const t of tenants) keys.push(['tenant', t.sourceId]);
  for (const p of people) {
    keys.push(['person', p.sourceId]);
    for (const tenant of p.tenantSourceIds ?? []) keys.push(['tenant', tenant]);
  }
  for (const t of threads) {
    keys.push(['thread', t.sourceId], ['person', t.customerSourceId], ['agent_customer', t.customerSourceId]);
    for (const l of labelsOf.get(t.sourceId)!) keys.push(['label', l.labelKey], ['thread_label', l.placementKey]);
  }
  for (const e of entries) {
    keys.push(['entry', e.sourceId], ['thread', e.threadSourceId]);
    if (e.author.kind === 'person') keys.push(['person', e.author.sourceId]);
  }
  const ledger = await lookupLedger(db, scope, keys);
  const known = (type: LedgerType, id: string): LedgerEntry | undefined => ledger.get(ledgerKey(type, id)) ?? asEntry(newRows.get(ledgerKey(type, id)));

  // Tenants
  const newTenants = tenants.filter((t) => !countSkipped(known('tenant', t.sourceId), () => count('tenant', 'skipped')));
  const tenantIds = await importTenants(ctx, newTenants.map((t) => ({ externalId: stripNul(t.externalId), name: stripNul(t.name), domain: stripNul(t.domain) ?? null })));
  for (const t of newTenants) {
    const got = tenantIds.get(stripNul(t.externalId))!;
    record({ type: 'tenant', sourceId: t.sourceId, entityType: 'tenant', entityId: got.tenantId, disposition: got.created ? 'created' : 'linked' });
    count('tenant', got.created ? 'created' : 'linked');
  }

  // People: agents are authors only; customers are found by their first email or created.
  const newCustomers: ImportedPerson[] = [];
  const tenantsOf = new Map<string, string[]>();
  const otherEmails = new Map<string, string[]>();
  for (const p of people) {
    if (countSkipped(known('person', p.sourceId), () => count(p.role === 'agent' ? 'agent' : 'person', 'skipped'))) continue;
    const emails = usableEmails(p);
    if (p.role === 'agent') {
      record({ type: 'person', sourceId: p.sourceId, entityType: 'agent', entityId: null, disposition: 'created', details: { name: stripNul(p.name) ?? null, email: emails.usable[0] ?? null } });
      count('agent', 'created');
      continue;
    }
    if (emails.unusable !== null) {
      fail({ recordType: 'person', sourceId: p.sourceId, reason: `unusable email address ${JSON.stringify(emails.unusable)}`, excerpt: JSON.stringify(p) });
      continue;
    }
    newCustomers.push({ key: p.sourceId, email: emails.usable[0] ?? null, fullName: p.name, createdAt: p.createdAt ?? null });
    if (emails.usable.length > 1) otherEmails.set(p.sourceId, emails.usable.slice(1));
    if (p.tenantSourceIds?.length) tenantsOf.set(p.sourceId, p.tenantSourceIds);
  }
  // A thread needs a customer: an agent who opened one gets a customer record of their own, and
  // someone the provider no longer knows gets one without email under the adapter's name for them;
  // either is as old as the thread that made it (so a re-import writes the same rows).
  const requesters = new Map<string, { type: 'agent_customer' | 'person'; entry: ImportedPerson }>();
  for (const t of threads) {
    if (known('thread', t.sourceId) || requesters.has(t.customerSourceId) || known('agent_customer', t.customerSourceId)) continue;
    const person = known('person', t.customerSourceId);
    if (person?.entityType === 'agent') {
      const d = person.details ?? {};
      const email = typeof d.email === 'string' ? d.email : null;
      requesters.set(t.customerSourceId, { type: 'agent_customer', entry: { key: `agent:${t.customerSourceId}`, email, fullName: typeof d.name === 'string' ? d.name : null, createdAt: t.createdAt } });
    } else if (!person && !newCustomers.some((c) => c.key === t.customerSourceId)) {
      requesters.set(t.customerSourceId, { type: 'person', entry: { key: t.customerSourceId, email: null, fullName: unknownCustomerName(t), createdAt: t.createdAt } });
    }
  }
  const customers = await importCustomers(ctx, [...newCustomers, ...[...requesters.values()].map((r) => r.entry)]);
  const memberships: Array<{ tenantId: string; customerId: string }> = [];
  for (const [key, got] of customers) {
    if (key.startsWith('agent:')) {
      const sourceId = key.slice('agent:'.length);
      record({ type: 'agent_customer', sourceId, entityType: 'customer', entityId: got.customerId, disposition: got.created ? 'created' : 'linked' });
      count('person', got.created ? 'created' : 'linked');
      continue;
    }
    const sourceId = key;
    const others = otherEmails.get(sourceId);
    const placeholder = requesters.get(sourceId)?.type === 'person';
    record({ type: 'person', sourceId, entityType: 'customer', entityId: got.customerId, disposition: got.created ? 'created' : 'linked', details: others ? { otherEmails: others } : placeholder ? { unknownToProvider: true } : undefined });
    count('person', got.created ? 'created' : 'linked');
    // Memberships are added for a customer this import created; an existing customer is left as it is.
    if (!got.created) continue;
    for (const tenantSourceId of tenantsOf.get(sourceId) ?? []) {
      const tenantId = known('tenant', tenantSourceId)?.entityId;
      if (tenantId) memberships.push({ tenantId, customerId: got.customerId });
    }
  }
  await importTenantCustomers(ctx, memberships);

  // Threads
  const newThreads: ImportedThread[] = [];
  for (const t of threads) {
    if (countSkipped(known('thread', t.sourceId), () => count('thread', 'skipped'))) continue;
    const person = known('person', t.customerSourceId);
    const customer = person?.entityType === 'agent' ? known('agent_customer', t.customerSourceId) : person;
    if (!customer || customer.entityType !== 'customer' || !customer.entityId) {
      fail({ recordType: 'thread', sourceId: t.sourceId, reason: `its requester ${t.customerSourceId} was not imported`, excerpt: JSON.stringify(t) });
      continue;
    }
    const id = newId('thread', t.createdAt.getTime());
    newThreads.push({ id, customerId: customer.entityId, title: t.title, status: t.status, channel: t.channel, createdAt: t.createdAt });
    record({ type: 'thread', sourceId: t.sourceId, entityType: 'thread', entityId: id, disposition: 'created' });
    count('thread', 'created');
  }
  await importThreads(ctx, newThreads);

  // Labels: a label the workspace has is linked; one placed on a thread once is never placed again.
  const wantedPairs: Array<{ threadId: string; name: string; labelKey: string; placementKey: string }> = [];
  for (const t of threads) {
    const threadId = known('thread', t.sourceId)?.entityId;
    if (!threadId) continue;
    for (const l of labelsOf.get(t.sourceId)!) if (!known('thread_label', l.placementKey)) wantedPairs.push({ threadId, ...l });
  }
  const missingLabels = [...new Set(wantedPairs.filter((p) => !known('label', p.labelKey)).map((p) => p.name))];
  const labelIds = await importLabels(ctx, missingLabels);
  for (const [lower, got] of labelIds) {
    record({ type: 'label', sourceId: lower, entityType: 'label', entityId: got.labelId, disposition: got.created ? 'created' : 'linked' });
    count('label', got.created ? 'created' : 'linked');
  }
  const pairs: Array<{ threadId: string; labelId: string }> = [];
  for (const p of wantedPairs) {
    const labelId = known('label', p.labelKey)?.entityId;
    if (!labelId || newRows.has(ledgerKey('thread_label', p.placementKey))) continue;
    pairs.push({ threadId: p.threadId, labelId });
    record({ type: 'thread_label', sourceId: p.placementKey, entityType: 'thread_label', entityId: labelId, disposition: 'created' });
  }
  await importThreadLabels(ctx, pairs);

  // Entries and their attachments
  const newEntries: ImportedEntry[] = [];
  const files: ImportedAttachment[] = [];
  for (const e of entries) {
    if (countSkipped(known('entry', e.sourceId), () => count('entry', 'skipped'))) continue;
    const threadId = known('thread', e.threadSourceId)?.entityId;
    if (!threadId) {
      fail({ recordType: 'entry', sourceId: e.sourceId, reason: `its thread ${e.threadSourceId} was not imported`, excerpt: excerptOf(e) });
      continue;
    }
    const id = newId('timelineEntry', e.createdAt.getTime());
    newEntries.push({ id, threadId, ...entryAuthorAndKind(e, known), text: e.text, html: e.html, createdAt: e.createdAt });
    record({ type: 'entry', sourceId: e.sourceId, entityType: 'timeline_entry', entityId: id, disposition: 'created' });
    count('entry', 'created');
    for (const file of judgedFiles(e)) {
      files.push({ ...file, timelineEntryId: id } as ImportedAttachment);
      count('attachment', file.status === 'accepted' ? 'created' : 'skipped');
    }
  }
  await importTimelineEntries(ctx, newEntries);
  await importAttachments(ctx, files);

  for (const s of page.skipped ?? []) count(s.recordType, 'skipped');
  for (const f of failures) count(f.recordType, 'failed');
  await recordFailures(db, scope, stream, failures);
  await insertLedgerRows(db, scope, [...newRows.values()]);
  return { counts, failures };
}

/** A person's addresses, normalised, duplicates dropped; the first unusable one fails the person. */
function usableEmails(p: PersonRecord): { usable: string[]; unusable: string | null } {
  const usable: string[] = [];
  for (const raw of p.emails) {
    if (raw.trim() === '') continue;
    try {
      const email = normaliseEmail(stripNul(raw));
      if (!usable.includes(email)) usable.push(email);
    } catch {
      return { usable, unusable: raw };
    }
  }
  return { usable, unusable: null };
}

/** One label per name whatever its case: the first spelling is the one created. */
function firstSpellings(names: string[]): string[] {
  const byKey = new Map<string, string>();
  for (const name of names) if (!byKey.has(name.toLowerCase())) byKey.set(name.toLowerCase(), name);
  return [...byKey.values()];
}

function unknownCustomerName(t: ThreadRecord): string {
  return t.customerFallbackName ?? `Unknown customer ${t.customerSourceId}`;
}

function dedupe<T extends { sourceId: string }>(records: T[]): T[] {
  return [...new Map(records.map((r) => [r.sourceId, r])).values()];
}

function asEntry(row: NewLedgerRow | undefined): LedgerEntry | undefined {
  return row ? { entityType: row.entityType, entityId: row.entityId, details: row.details ?? null } : undefined;
}

function countSkipped(entry: LedgerEntry | undefined, onSkip: () => void): boolean {
  if (entry) onSkip();
  return entry !== undefined;
}

function entryAuthorAndKind(e: FetchedEntry, known: (type: LedgerType, id: string) => LedgerEntry | undefined): Pick<ImportedEntry, 'author' | 'kind'> {
  const message = e.kind === 'message';
  if (e.author.kind === 'system') return { author: { type: 'system', name: e.author.name }, kind: message ? 'outbound_message' : 'note' };
  const person = known('person', e.author.sourceId);
  if (person?.entityType === 'customer' && person.entityId) {
    return { author: { type: 'customer', customerId: person.entityId }, kind: message ? 'inbound_message' : 'note' };
  }
  if (person?.entityType === 'agent') {
    const d = person.details ?? {};
    return { author: { type: 'user', name: typeof d.name === 'string' ? d.name : null, email: typeof d.email === 'string' ? d.email : null }, kind: message ? 'outbound_message' : 'note' };
  }
  // Someone the provider no longer knows (a deleted user): kept under the name the adapter gave.
  return { author: { type: 'system', name: e.author.fallbackName }, kind: message ? 'inbound_message' : 'note' };
}

/** The verdicts the fetch reached (Plain's rules, as for inbound email), in the entry's order; the accepted bytes are stored already. */
function judgedFiles(e: FetchedEntry): Array<Omit<ImportedAttachment, 'timelineEntryId'>> {
  return e.attachments.map((a, position) => {
    const base = { position, fileName: a.fileName, contentType: a.contentType || 'application/octet-stream', inline: a.inline, size: a.fetched?.size ?? a.size };
    if (a.verdict.status === 'accepted' && a.fetched) return { ...base, status: 'accepted' as const, sha256: a.fetched.sha256 };
    return { ...base, status: 'rejected' as const, sha256: a.fetched?.sha256 ?? null, code: a.verdict.status === 'rejected' ? a.verdict.code : ATTACHMENT_NOT_FETCHED };
  });
}

function excerptOf(e: FetchedEntry): string {
  return JSON.stringify({ ...e, attachments: e.attachments.map((a) => a.fileName) });
}

async function recordFailures(db: Queryable, scope: LedgerScope, stream: string, failures: RecordFailure[]): Promise<void> {
  if (failures.length === 0) return;
  await db.query(
    `INSERT INTO import_record_errors (workspace_id, run_id, stream, source_type, source_id, reason, excerpt)
     SELECT $1, $2, x.stream, x."recordType", x."sourceId", x.reason, x.excerpt
       FROM jsonb_to_recordset($3) AS x(stream text, "recordType" text, "sourceId" text, reason text, excerpt text)`,
    [
      scope.workspaceId,
      scope.runId,
      JSON.stringify(
        failures.map((f) => ({
          stream,
          recordType: f.recordType,
          sourceId: stripNul(f.sourceId),
          reason: clip(stripNul(f.reason), 2000),
          excerpt: f.excerpt === undefined ? null : clip(stripNul(f.excerpt), MAX_EXCERPT),
        })),
      ),
    ],
  );
}

/**
 * Fresh planner statistics for the tables an import grows. A big import outgrows them within
 * minutes, long before autovacuum looks, and the page statements' joins then scan whole tables.
 * Best effort: without the right to ANALYZE the import is only slower.
 */
export async function refreshImportStatistics(db: Queryable): Promise<void> {
  await db.query('ANALYZE import_ledger, customers, threads, timeline_entries, labels, tenants').catch(() => undefined);
}
