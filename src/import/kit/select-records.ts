import type { z } from 'zod';
import { clip } from '../../domain/text.ts';
import type { RecordFailure, RecordType } from '../adapter.ts';

const EXCERPT_CHARS = 500;

/**
 * The record selector: each record of a page checked on its own. The readable ones go on; each
 * other one is a record failure with the provider's id and an excerpt, and the page goes on.
 */
export function selectRecords<T>(items: readonly unknown[], schema: z.ZodType<T>, recordType: RecordType, what: string): { records: T[]; failures: RecordFailure[] } {
  const records: T[] = [];
  const failures: RecordFailure[] = [];
  for (const raw of items) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) {
      records.push(parsed.data);
      continue;
    }
    const id = raw && typeof raw === 'object' ? (raw as { id?: unknown; Id?: unknown }).id ?? (raw as { Id?: unknown }).Id : undefined;
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` (${issue.path.join('.')})` : '';
    failures.push({
      recordType,
      sourceId: id === undefined || id === null ? '?' : String(id),
      reason: `unreadable ${what}${where}: ${issue?.message ?? 'bad shape'}`,
      excerpt: clip(JSON.stringify(raw) ?? String(raw), EXCERPT_CHARS),
    });
  }
  return { records, failures };
}
