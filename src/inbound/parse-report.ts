import { createHash } from 'node:crypto';
import { bodyText, entryReplyText, findForwardedOriginal } from './agent-forward.ts';
import { judgeAttachments } from '../domain/attachment-rules.ts';
import { classifyEmail } from './classify.ts';
import type { NormalisedEmail } from './email.ts';
import { originalSender } from './original-sender.ts';
import { parseStoredEmail } from './parse-stored.ts';

/**
 * What the pipeline makes of one email without a database (`intake parse`): addresses, ids,
 * texts, classification and attachment decisions. `forwardedBy` names the sender of any forward
 * whose original sender was found; whether that sender is an agent depends on the workspace.
 */
export async function parseReport(file: string, raw: Buffer) {
  const source = file.toLowerCase().endsWith('.json') ? 'postmark' : 'mime';
  const email: NormalisedEmail = await parseStoredEmail(source, raw);
  const sender = originalSender(email);
  const body = await bodyText(email);
  const forward = await findForwardedOriginal(email, body);
  const classification = classifyEmail(email);
  const text = body.text;
  const attachments = forward ? forward.original.attachments : email.attachments;
  const decisions = judgeAttachments(attachments);
  return {
    file,
    from: email.from,
    // Which header gave the sender: Reply-To, Sender or Return-Path when From had no address.
    senderHeader: email.senderHeader ?? null,
    originalSender: forward ? forward.original.from : sender,
    to: email.to,
    cc: email.cc,
    subject: email.subject,
    date: email.date?.toISOString() ?? null,
    unparsedDate: email.unparsedDate ?? null,
    messageId: email.messageId,
    inReplyTo: email.inReplyTo,
    references: email.references,
    text,
    replyText: entryReplyText(email, body, forward),
    classification: { bounce: classification.bounce, autoReply: classification.autoReply, bulk: classification.bulk, forwardedBy: forward && sender ? sender.address : null },
    attachments: attachments.map((a, i) => {
      const d = decisions[i]!;
      return {
        fileName: d.fileName,
        contentType: a.contentType,
        size: a.content.length,
        sha256: createHash('sha256').update(a.content).digest('hex'),
        status: d.status,
        code: d.status === 'rejected' ? d.code : null,
      };
    }),
  };
}
