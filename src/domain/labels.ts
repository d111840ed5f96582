import { newId } from './ids.ts';
import { clip, stripNul } from './text.ts';
import { InputError } from './input-error.ts';
import { assertImport, type ReadContext, type WriteContext } from './origin.ts';

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

/** The workspace's labels with these ids; an id another workspace has is simply not found. */
export async function findLabelsByIds(ctx: ReadContext, ids: string[]): Promise<Label[]> {
  if (ids.length === 0) return [];
  const { rows } = await ctx.db.query<Label>('SELECT id, name FROM labels WHERE workspace_id = $1 AND id = ANY($2) ORDER BY id', [ctx.workspaceId, ids]);
  return rows;
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

/** The workspace's labels with these names (case-insensitive), created if new, in two statements. Keyed by lower-cased name. */
export async function importLabels(ctx: WriteContext, names: string[]): Promise<Map<string, { labelId: string; created: boolean }>> {
  assertImport(ctx);
  const out = new Map<string, { labelId: string; created: boolean }>();
  const wanted = [...new Map(names.map((n) => clip(stripNul(n).trim(), 200)).filter((n) => n !== '').map((n) => [n.toLowerCase(), n])).values()];
  if (wanted.length === 0) return out;
  const inserted = await ctx.db.query<Label>(
    `INSERT INTO labels (id, workspace_id, name, origin)
     SELECT x.id, $1, x.name, 'import' FROM jsonb_to_recordset($2) AS x(id text, name text) ORDER BY lower(x.name)
     ON CONFLICT (workspace_id, lower(name)) DO NOTHING RETURNING id, name`,
    [ctx.workspaceId, JSON.stringify(wanted.map((name) => ({ id: newId('label'), name })))],
  );
  for (const l of inserted.rows) out.set(l.name.toLowerCase(), { labelId: l.id, created: true });
  const rest = wanted.filter((n) => !out.has(n.toLowerCase()));
  if (rest.length > 0) {
    const { rows } = await ctx.db.query<Label>('SELECT id, name FROM labels WHERE workspace_id = $1 AND lower(name) = ANY($2)', [ctx.workspaceId, rest.map((n) => n.toLowerCase())]);
    for (const l of rows) out.set(l.name.toLowerCase(), { labelId: l.id, created: false });
  }
  return out;
}

/** Puts labels on threads in one statement; pairs already there are left as they are. */
export async function importThreadLabels(ctx: WriteContext, pairs: Array<{ threadId: string; labelId: string }>): Promise<void> {
  assertImport(ctx);
  if (pairs.length === 0) return;
  await ctx.db.query(
    `INSERT INTO thread_labels (workspace_id, thread_id, label_id, origin)
     SELECT $1, t.id, l.id, 'import' FROM jsonb_to_recordset($2) AS x("threadId" text, "labelId" text)
       JOIN threads t ON t.workspace_id = $1 AND t.id = x."threadId"
       JOIN labels l ON l.workspace_id = $1 AND l.id = x."labelId"
     ON CONFLICT DO NOTHING`,
    [ctx.workspaceId, JSON.stringify(pairs)],
  );
}
