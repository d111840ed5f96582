import { newId } from '../domain/ids.ts';
import { InputError } from '../domain/input-error.ts';
import type { ReadContext } from '../domain/origin.ts';
import { stripNul } from '../domain/text.ts';

/** The channels an auto-response answers: `EMAIL` for threads an email opened, `API` for threads `POST /v1/threads` opened. */
export const AUTO_RESPONSE_CHANNELS = Object.freeze(['EMAIL', 'API'] as const);
export type AutoResponseChannel = (typeof AUTO_RESPONSE_CHANNELS)[number];

/** Keeps the list (answered whole, in evaluation order) and the per-thread pick small. */
export const MAX_AUTO_RESPONSES = 100;

export type AutoResponse = {
  id: string;
  messageText: string;
  messageHtml: string | null;
  enabled: boolean;
  channels: AutoResponseChannel[];
  order: number;
  createdAt: Date;
  updatedAt: Date;
};

export type NewAutoResponse = {
  messageText: string;
  messageHtml?: string | null | undefined;
  enabled?: boolean | undefined;
  channels?: AutoResponseChannel[] | undefined;
  order?: number | undefined;
};

export type AutoResponsePatch = Partial<NewAutoResponse>;

const COLUMNS = `id, message_text AS "messageText", message_html AS "messageHtml", enabled, channels, "order",
                 created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Listed once each, in a stable order. */
const distinct = (channels: AutoResponseChannel[]) => AUTO_RESPONSE_CHANNELS.filter((c) => channels.includes(c));

export async function createAutoResponse(ctx: ReadContext, input: NewAutoResponse): Promise<AutoResponse> {
  const { rows } = await ctx.db.query<AutoResponse>(
    `INSERT INTO auto_responses (id, workspace_id, message_text, message_html, enabled, channels, "order")
     SELECT $1, $2, $3, $4, $5, $6, $7
      WHERE (SELECT count(*) FROM auto_responses WHERE workspace_id = $2) < $8
     RETURNING ${COLUMNS}`,
    [
      newId('autoResponse'),
      ctx.workspaceId,
      stripNul(input.messageText),
      stripNul(input.messageHtml) ?? null,
      input.enabled ?? true,
      distinct(input.channels ?? ['EMAIL']),
      input.order ?? 0,
      MAX_AUTO_RESPONSES,
    ],
  );
  if (!rows[0]) {
    throw new InputError(`A workspace has at most ${MAX_AUTO_RESPONSES} auto-responses`, [
      { field: '(body)', message: `at most ${MAX_AUTO_RESPONSES} auto-responses per workspace`, type: 'VALIDATION' },
    ]);
  }
  return rows[0];
}

/** Every auto-response of the workspace, in the order they are tried. */
export async function listAutoResponses(ctx: ReadContext): Promise<AutoResponse[]> {
  const { rows } = await ctx.db.query<AutoResponse>(`SELECT ${COLUMNS} FROM auto_responses WHERE workspace_id = $1 ORDER BY "order", id`, [ctx.workspaceId]);
  return rows;
}

export async function getAutoResponse(ctx: ReadContext, id: string): Promise<AutoResponse | null> {
  const { rows } = await ctx.db.query<AutoResponse>(`SELECT ${COLUMNS} FROM auto_responses WHERE workspace_id = $1 AND id = $2`, [ctx.workspaceId, id]);
  return rows[0] ?? null;
}

/** Changes only the fields given (`messageHtml: null` clears it); null when there is no such auto-response. */
export async function updateAutoResponse(ctx: ReadContext, id: string, patch: AutoResponsePatch): Promise<AutoResponse | null> {
  const { rows } = await ctx.db.query<AutoResponse>(
    `UPDATE auto_responses SET
       message_text = coalesce($3, message_text),
       message_html = CASE WHEN $4 THEN $5 ELSE message_html END,
       enabled = coalesce($6, enabled),
       channels = coalesce($7, channels),
       "order" = coalesce($8, "order"),
       updated_at = now()
     WHERE workspace_id = $1 AND id = $2
     RETURNING ${COLUMNS}`,
    [
      ctx.workspaceId,
      id,
      stripNul(patch.messageText) ?? null,
      patch.messageHtml !== undefined,
      stripNul(patch.messageHtml) ?? null,
      patch.enabled ?? null,
      patch.channels ? distinct(patch.channels) : null,
      patch.order ?? null,
    ],
  );
  return rows[0] ?? null;
}

/** The deleted auto-response, or null when there was none. What it already sent stays recorded. */
export async function deleteAutoResponse(ctx: ReadContext, id: string): Promise<AutoResponse | null> {
  const { rows } = await ctx.db.query<AutoResponse>(`DELETE FROM auto_responses WHERE workspace_id = $1 AND id = $2 RETURNING ${COLUMNS}`, [ctx.workspaceId, id]);
  return rows[0] ?? null;
}

/** The first enabled auto-response for this channel, by `order` then id. */
export async function firstEnabledAutoResponse(ctx: ReadContext, channel: AutoResponseChannel): Promise<AutoResponse | null> {
  const { rows } = await ctx.db.query<AutoResponse>(
    `SELECT ${COLUMNS} FROM auto_responses WHERE workspace_id = $1 AND enabled AND $2 = ANY(channels) ORDER BY "order", id LIMIT 1`,
    [ctx.workspaceId, channel],
  );
  return rows[0] ?? null;
}
