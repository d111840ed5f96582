import { ATTACHMENT_CODES, DEFAULT_ATTACHMENT_LIMITS, realExtension } from '../inbound/attachment-rules.ts';

/**
 * Whether a provider's file is worth downloading: a banned type or a declared size over Plain's
 * per-entry budget is refused from its name and size alone. Files that pass are downloaded (with
 * this cap) and judged on their bytes by the same rules as inbound email.
 */
export const MAX_ATTACHMENT_DOWNLOAD_BYTES = DEFAULT_ATTACHMENT_LIMITS.maxTotalBytes;

export function precheckAttachment(fileName: string, declaredSize: number): { code: string; reason: string } | null {
  const extension = realExtension(fileName);
  if (extension !== null && DEFAULT_ATTACHMENT_LIMITS.bannedExtensions.has(extension)) {
    return { code: ATTACHMENT_CODES.fileTypeNotAllowed, reason: `.${extension} files are not allowed` };
  }
  if (declaredSize > MAX_ATTACHMENT_DOWNLOAD_BYTES) {
    return { code: ATTACHMENT_CODES.fileSizeTooLarge, reason: `over ${MAX_ATTACHMENT_DOWNLOAD_BYTES} bytes` };
  }
  return null;
}

/** The code of an attachment that could not be fetched from the provider (gone, refused, larger than it said). */
export const ATTACHMENT_NOT_FETCHED = 'attachment_not_fetched';
