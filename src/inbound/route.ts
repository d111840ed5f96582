import type { Queryable } from '../db/pool.ts';
import { inferCompany } from '../domain/company-inference.ts';
import {
  findWorkspaceByInboundToken,
  findWorkspacesBySupportAddress,
  findWorkspacesBySupportDomain,
  type Workspace,
} from '../domain/workspaces.ts';
import { parseAddressList } from './addresses.ts';
import { headers, type EmailAddress, type NormalisedEmail } from './email.ts';

export type Routed = {
  routed: true;
  workspace: Workspace;
  matchedBy: 'inbound-address' | 'forwarding-header' | 'support-address';
  /** The support address the customer wrote to: replies go out from it. */
  supportAddress: string | null;
  /** The +hash of our inbound address (a thread token, when our own mail set it). */
  mailboxHash: string | null;
  /** Other workspaces whose inbound address the email also names: each gets its own copy. */
  alsoFor: Workspace[];
};
export type Unroutable = { routed: false; reason: string; /** A workspace whose domain the mail was sent to, for visibility. */ attributedTo: Workspace | null };

/** Headers a forwarding server records the original recipient in. */
export const FORWARDING_HEADERS = Object.freeze(['X-Forwarded-To', 'X-Forwarded-For', 'Delivered-To', 'X-Original-To', 'Envelope-To']);

/** The part of an email routing by inbound address reads: its recipients and headers. */
export type Recipients = Pick<NormalisedEmail, 'originalRecipient' | 'to' | 'cc' | 'bcc' | 'headers'>;

function forwardingAddresses(email: Pick<NormalisedEmail, 'headers'>): EmailAddress[] {
  return FORWARDING_HEADERS.flatMap((name) =>
    headers(email, name).flatMap((v) => parseAddressList(v.replace(/\s+/g, ',').replace(/,+/g, ','))),
  );
}

function directAddresses(email: Recipients): EmailAddress[] {
  return [...(email.originalRecipient ? parseAddressList(email.originalRecipient) : []), ...email.to, ...email.cc, ...email.bcc];
}

type TokenMatch = { workspace: Workspace; matchedBy: Routed['matchedBy']; mailboxHash: string | null };

/** Looks a workspace up by its inbound token; a batch passes a memo so each token costs one query per batch. */
export type TokenLookup = (token: string) => Promise<Workspace | null>;

/** A lookup that asks the database once per token and remembers the answer (for one batch: workspaces may change). */
export function memoTokenLookup(db: Queryable): TokenLookup {
  const known = new Map<string, Promise<Workspace | null>>();
  return (token) => {
    let found = known.get(token);
    if (!found) {
      found = findWorkspaceByInboundToken(db, token);
      known.set(token, found);
    }
    return found;
  };
}

type TokenCandidate = { token: string; matchedBy: Routed['matchedBy']; mailboxHash: string | null };

/** The inbound tokens (`token+hash@domain`) the email names, direct recipients before forwarding headers, each once. */
function tokenCandidates(email: Recipients, inboundDomain: string, mailboxHash: string | null): TokenCandidate[] {
  const found: TokenCandidate[] = [];
  const seen = new Set<string>();
  for (const [candidates, matchedBy] of [
    [directAddresses(email), 'inbound-address'],
    [forwardingAddresses(email), 'forwarding-header'],
  ] as const) {
    for (const a of candidates) {
      const [local, domain] = a.address.split('@') as [string, string];
      if (domain !== inboundDomain) continue;
      const [token, ...hash] = local.split('+');
      if (seen.has(token!)) continue;
      seen.add(token!);
      found.push({ token: token!, matchedBy, mailboxHash: hash.join('+') || mailboxHash || null });
    }
  }
  return found;
}

/** The workspaces whose inbound address the email names, in the order of tokenCandidates. */
async function byInboundToken(lookup: TokenLookup, email: Recipients, inboundDomain: string, mailboxHash: string | null): Promise<TokenMatch[]> {
  const found: TokenMatch[] = [];
  for (const c of tokenCandidates(email, inboundDomain, mailboxHash)) {
    const workspace = await lookup(c.token);
    if (workspace) found.push({ workspace, matchedBy: c.matchedBy, mailboxHash: c.mailboxHash });
  }
  return found;
}

/**
 * At receipt, before the body is parsed: the inbound tokens to try, in the order routing would
 * rank them; the first that names a workspace attributes the email to it, so the workspace sees
 * it even when it later fails, cannot be parsed or cannot be routed. A handful: a hostile list of
 * a thousand recipients must not cost a thousand lookups.
 */
export function receiptTokens(email: Recipients, inboundDomain: string, max = 10): string[] {
  return tokenCandidates(email, inboundDomain, null)
    .slice(0, max)
    .map((c) => c.token.toLowerCase());
}

/** The workspace receiptTokens attribute an email to, if any (one query per token). */
export async function workspaceByInboundAddress(db: Queryable, email: Recipients, inboundDomain: string): Promise<string | null> {
  for (const token of receiptTokens(email, inboundDomain)) {
    const workspace = await findWorkspaceByInboundToken(db, token);
    if (workspace) return workspace.id;
  }
  return null;
}

/**
 * Which workspace an email belongs to: our inbound address (OriginalRecipient / To / Cc, with the
 * MailboxHash), then forwarding headers, then a To/Cc address equal to a support address or an
 * alternate. An address claimed by two workspaces routes nowhere rather than to a guess.
 */
export async function routeEmail(
  db: Queryable,
  email: NormalisedEmail,
  inboundDomain: string,
  preferWorkspaceId?: string,
  lookup: TokenLookup = (token) => findWorkspaceByInboundToken(db, token),
): Promise<Routed | Unroutable> {
  const direct = directAddresses(email);
  const forwarded = forwardingAddresses(email);
  const byToken = await byInboundToken(lookup, email, inboundDomain, email.mailboxHash);
  // A copy made for one workspace routes by that workspace's own address (and its thread token).
  byToken.sort((a, b) => Number(b.workspace.id === preferWorkspaceId) - Number(a.workspace.id === preferWorkspaceId));
  const [first, ...others] = byToken;
  if (first) {
    return { routed: true, ...first, supportAddress: writtenTo(first.workspace, email, forwarded), alsoFor: others.map((o) => o.workspace) };
  }

  for (const [candidates, matchedBy] of [
    [forwarded, 'forwarding-header'],
    [[...email.to, ...email.cc], 'support-address'],
  ] as const) {
    const found = await findWorkspacesBySupportAddress(db, [...new Set(candidates.map((a) => a.address))]);
    if (found.length === 1) {
      const workspace = found[0]!;
      return { routed: true, workspace, matchedBy, supportAddress: writtenTo(workspace, email, forwarded), mailboxHash: null, alsoFor: [] };
    }
    if (found.length > 1) return { routed: false, reason: `the recipients match ${found.length} workspaces' support addresses`, attributedTo: null };
  }

  // Attribution is for visibility only, and never by a public provider's domain: anyone can
  // name help@gmail.com as a support address.
  const domains = [...new Set([...direct, ...forwarded].filter((a) => inferCompany(a.address) !== null).map((a) => a.address.split('@')[1]!))];
  const byDomain = await findWorkspacesBySupportDomain(db, domains);
  return {
    routed: false,
    reason: 'no recipient is an inbound address, support address or alternate of any workspace',
    attributedTo: byDomain.length === 1 ? byDomain[0]! : null,
  };
}

function writtenTo(workspace: Workspace, email: NormalisedEmail, forwarded: EmailAddress[]): string | null {
  const own = new Set([workspace.supportAddress, ...workspace.alternateAddresses].filter(Boolean));
  const hit = [...email.to, ...email.cc, ...forwarded].find((a) => own.has(a.address));
  return hit?.address ?? workspace.supportAddress;
}
