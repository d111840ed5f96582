import { ALREADY_EXISTS_CODES, AlreadyExistsError, violatedConstraint } from './already-exists.ts';
import { DEFAULT_ATTACHMENT_LIMITS, judgeAttachments, type AttachmentDecision, type AttachmentFile, type AttachmentLimits } from './attachment-rules.ts';
import { addAttachments, type Attachment } from './attachments.ts';
import { InputError, type FieldError } from './input-error.ts';
import { addLabelToThread, findLabelsByIds, findOrCreateLabel, type Label } from './labels.ts';
import type { WriteContext } from './origin.ts';
import { stripNul } from './text.ts';
import { createThread, type Channel, type Thread } from './threads.ts';
import { addTimelineEntry, type TimelineEntry } from './timeline-entries.ts';

export type NewThreadWithMessage = {
  customerId: string;
  title: string;
  channel: Channel;
  /** The customer's first message. */
  text: string;
  attachments?: AttachmentFile[];
  /** Labels by id (must exist in the workspace) and by name (found case-insensitively, else created). */
  labelIds?: string[];
  labelNames?: string[];
  externalId?: string | null;
};

export type StartedThread = {
  thread: Thread;
  entry: TimelineEntry;
  /** Each file with the rules' decision: refused ones carry their code and reason. */
  attachments: Array<Attachment & { reason: string | null }>;
  labels: Label[];
};

/**
 * A thread with its customer's first message, its attachments (judged by the same rules as an
 * email's: refused files are recorded with their code, the thread still lands) and its labels, in
 * the caller's transaction. The thread's `thread.thread_created` event is recorded with it; the
 * labels are in the thread it sends, as they are read when it is delivered.
 */
export async function startThread(ctx: WriteContext, input: NewThreadWithMessage, limits: AttachmentLimits = DEFAULT_ATTACHMENT_LIMITS): Promise<StartedThread> {
  const externalId = input.externalId == null ? null : stripNul(input.externalId).trim() || null;
  if (externalId !== null) {
    const { rows } = await ctx.db.query<{ id: string }>('SELECT id FROM threads WHERE workspace_id = $1 AND external_id = $2', [ctx.workspaceId, externalId]);
    if (rows[0]) throw threadExists(rows[0].id);
  }
  const labels = await resolveLabels(ctx, input.labelIds ?? [], input.labelNames ?? []);
  const thread = await createThread(ctx, { customerId: input.customerId, title: input.title, channel: input.channel, externalId }).catch((err) => {
    // Another transaction took this externalId since we looked.
    if (violatedConstraint(err) === 'threads_external_id') throw threadExists(null);
    throw err;
  });
  const entry = await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_message', author: { type: 'customer', customerId: input.customerId }, text: input.text });
  const files = input.attachments ?? [];
  const decisions = judgeAttachments(files, limits);
  const stored = await addAttachments(
    ctx,
    entry.id,
    files.map((f, i) => {
      const d = decisions[i]!;
      const common = { fileName: d.fileName, contentType: f.contentType, content: f.content };
      return d.status === 'accepted' ? { ...common, status: 'accepted' as const } : { ...common, status: 'rejected' as const, code: d.code };
    }),
  );
  for (const label of labels) await addLabelToThread(ctx, thread.id, label.id);
  return { thread, entry, attachments: stored.map((a, i) => ({ ...a, reason: reasonOf(decisions[i]!) })), labels };
}

const reasonOf = (d: AttachmentDecision) => (d.status === 'rejected' ? d.reason : null);

function threadExists(existingId: string | null): AlreadyExistsError {
  // The existing thread's id lets a caller retrying a create carry on with it.
  const message = `A thread with this external id already exists in the workspace${existingId ? `: ${existingId}` : ''}.`;
  return new AlreadyExistsError(ALREADY_EXISTS_CODES.threadExternalId, 'externalId', message, existingId);
}

/** Ids the workspace lacks are refused field by field (NOT_FOUND); names are found or created. Each label once. */
async function resolveLabels(ctx: WriteContext, ids: string[], names: string[]): Promise<Label[]> {
  const found = await findLabelsByIds(ctx, [...new Set(ids)]);
  const known = new Set(found.map((l) => l.id));
  const missing: FieldError[] = ids.flatMap((id, i) => (known.has(id) ? [] : [{ field: `labelTypeIds.${i}`, message: `label type ${id} not found`, type: 'NOT_FOUND' as const }]));
  if (missing.length > 0) throw new InputError('Unknown label types', missing);
  const byId = new Map(ids.map((id) => [id, found.find((l) => l.id === id)!]));
  const out = new Map<string, Label>([...byId.values()].map((l) => [l.id, l]));
  for (const name of names) {
    const { label } = await findOrCreateLabel(ctx, name);
    out.set(label.id, label);
  }
  return [...out.values()];
}
