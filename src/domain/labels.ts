import { newId } from './ids.ts';
import { InputError } from './input-error.ts';
import type { WriteContext } from './origin.ts';

export type Label = { id: string; name: string };

/** The workspace's label with this name (case-insensitive), created if new. */
export async function findOrCreateLabel(ctx: WriteContext, name: string): Promise<{ label: Label; created: boolean }> {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 200) {
    throw new InputError('Invalid label', [{ field: 'name', message: 'must be 1 to 200 characters', type: 'VALIDATION' }]);
  }
  const inserted = await ctx.db.query<Label>(
    `INSERT INTO labels (id, workspace_id, name, origin) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workspace_id, lower(name)) DO NOTHING RETURNING id, name`,
    [newId('label'), ctx.workspaceId, trimmed, ctx.origin],
  );
  if (inserted.rows[0]) return { label: inserted.rows[0], created: true };
  const { rows } = await ctx.db.query<Label>('SELECT id, name FROM labels WHERE workspace_id = $1 AND lower(name) = lower($2)', [ctx.workspaceId, trimmed]);
  return { label: rows[0]!, created: false };
}

/** Puts the label on the thread; twice is a no-op. Returns whether it was added now. */
export async function addLabelToThread(ctx: WriteContext, threadId: string, labelId: string): Promise<boolean> {
  const { rowCount } = await ctx.db.query(
    `INSERT INTO thread_labels (workspace_id, thread_id, label_id, origin)
     SELECT $1, t.id, l.id, $4 FROM threads t JOIN labels l ON l.workspace_id = t.workspace_id
      WHERE t.workspace_id = $1 AND t.id = $2 AND l.id = $3
     ON CONFLICT DO NOTHING`,
    [ctx.workspaceId, threadId, labelId, ctx.origin],
  );
  return rowCount === 1;
}
