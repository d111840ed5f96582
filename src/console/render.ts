import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/pool.ts';
import { getWorkspace } from '../domain/workspaces.ts';
import { sessionOf } from './request.ts';

export type Nav = 'overview' | 'imports' | 'inbound' | 'webhooks';

/** A full page in the layout: the workspace's name, the navigation and the session's CSRF token. */
export async function renderPage(db: Queryable, request: FastifyRequest, reply: FastifyReply, view: string, data: { title: string; nav: Nav } & Record<string, unknown>) {
  const session = sessionOf(request);
  const workspace = await getWorkspace(db, session.workspaceId);
  return reply.view(view, { ...data, session: { csrfToken: session.csrfToken }, workspaceName: workspace?.name ?? session.workspaceId });
}

export type Notices = Readonly<Record<string, { text: string; error?: boolean }>>;

/** A notice passed along a redirect (`?notice=...`): one of a fixed set of words, never page text from the URL. */
export function noticeFrom(request: FastifyRequest, notices: Notices): { text: string; error: boolean } | null {
  const key = (request.query as Record<string, unknown> | undefined)?.notice;
  const notice = typeof key === 'string' && Object.hasOwn(notices, key) ? notices[key]! : null;
  return notice ? { text: notice.text, error: notice.error ?? false } : null;
}

/** Formats for templates. */
export const fmt = {
  time: (d: Date | string | null | undefined) => (d ? new Date(d).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—'),
  bytes: (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`),
};
