import { ATTACHMENT_CODES, DEFAULT_ATTACHMENT_LIMITS, realExtension } from '../domain/attachment-rules.ts';

/**
 * Whether a provider's file is worth downloading: a banned type, or a file the entry's budget
 * (25 files, 6 MB, spent in order on the sizes the provider declares) cannot hold, is refused from
 * its name and size alone. Files that pass are downloaded (with this cap) and judged again on
 * their bytes by the same rules as inbound email.
 */
export const MAX_ATTACHMENT_DOWNLOAD_BYTES = DEFAULT_ATTACHMENT_LIMITS.maxTotalBytes;

export type AttachmentBudget = { count: number; bytes: number };

export const newAttachmentBudget = (): AttachmentBudget => ({ count: 0, bytes: 0 });

export function precheckAttachment(fileName: string, declaredSize: number, budget: AttachmentBudget = newAttachmentBudget()): { code: string; reason: string } | null {
  const limits = DEFAULT_ATTACHMENT_LIMITS;
  const extension = realExtension(fileName);
  if (extension !== null && limits.bannedExtensions.has(extension)) {
    return { code: ATTACHMENT_CODES.fileTypeNotAllowed, reason: `.${extension} files are not allowed` };
  }
  if (budget.count + 1 > limits.maxCount) return { code: ATTACHMENT_CODES.tooMany, reason: `more than ${limits.maxCount} attachments` };
  if (budget.bytes + declaredSize > limits.maxTotalBytes) {
    return { code: ATTACHMENT_CODES.fileSizeTooLarge, reason: `over ${limits.maxTotalBytes} bytes of attachments in one entry` };
  }
  budget.count += 1;
  budget.bytes += declaredSize;
  return null;
}

/** The code of an attachment that could not be fetched from the provider (gone, refused, larger than it said). */
export const ATTACHMENT_NOT_FETCHED = 'attachment_not_fetched';
