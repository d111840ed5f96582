import pLimit from 'p-limit';
import type { AttachmentRecord, EntryRecord, RecordFailure, StreamContext, StreamPage } from './adapter.ts';
import { ATTACHMENT_NOT_FETCHED, MAX_ATTACHMENT_DOWNLOAD_BYTES, newAttachmentBudget, precheckAttachment } from './attachment-precheck.ts';
import { ProviderError, RecordError } from './errors.ts';
import type { ProviderClient } from './http-client.ts';

/**
 * The engine's half of attachments: adapters say where a file is, this fetches what Plain's
 * rules let in. Only entries the ledger does not hold yet are fetched; each entry's 25-file / 6 MB
 * budget is spent on declared sizes first, so refused files are never downloaded; a page fetches
 * at most `MAX_PAGE_DOWNLOAD_BYTES` (memory stays bounded whatever a page holds), a few at a time.
 */

export type FetchedAttachment = Omit<AttachmentRecord, 'source'> & {
  /** The bytes, or null when they were not fetched (refused by type or declared size, or gone). */
  content: Buffer | null;
  /** Set when the file is refused: Plain's code. */
  refusal?: { code: string; reason: string } | undefined;
};
export type FetchedEntry = Omit<EntryRecord, 'attachments'> & { attachments: FetchedAttachment[] };
export type FetchedPage = Omit<StreamPage, 'entries'> & { entries?: FetchedEntry[] };

export const MAX_PAGE_DOWNLOAD_BYTES = 256 * 1024 * 1024;
const DOWNLOAD_CONCURRENCY = 8;

export async function fetchAttachments(client: ProviderClient, page: StreamPage, ctx: StreamContext): Promise<FetchedPage> {
  const entries = page.entries ?? [];
  const withFiles = entries.filter((e) => e.attachments.length > 0);
  if (withFiles.length === 0) return page as FetchedPage;
  const known = await ctx.known('entry', withFiles.map((e) => e.sourceId));
  const failures: RecordFailure[] = [...(page.failures ?? [])];
  const limit = pLimit(DOWNLOAD_CONCURRENCY);
  const downloads: Array<Promise<void>> = [];
  let pageBytes = 0;
  const fetched = entries.map((entry): FetchedEntry => {
    const isNew = !known.has(entry.sourceId);
    const budget = newAttachmentBudget();
    const attachments = entry.attachments.map(({ source, ...declared }): FetchedAttachment => {
      const file: FetchedAttachment = { ...declared, content: null };
      // An entry already imported is skipped whole by the writer: its files are not fetched again.
      if (!isNew) return file;
      file.refusal = precheckAttachment(file.fileName, file.size, budget) ?? undefined;
      if (file.refusal) return file;
      if (pageBytes + file.size > MAX_PAGE_DOWNLOAD_BYTES) {
        file.refusal = { code: ATTACHMENT_NOT_FETCHED, reason: `the page's ${MAX_PAGE_DOWNLOAD_BYTES} bytes of downloads were spent` };
        failures.push({ recordType: 'attachment', sourceId: file.sourceId, reason: `not fetched: ${file.refusal.reason} (${file.fileName})` });
        return file;
      }
      pageBytes += file.size;
      downloads.push(limit(() => download(client, file, source, ctx.signal, failures)));
      return file;
    });
    return { ...entry, attachments };
  });
  await Promise.all(downloads);
  return { ...page, entries: fetched, failures };
}

async function download(client: ProviderClient, file: FetchedAttachment, source: AttachmentRecord['source'], signal: AbortSignal, failures: RecordFailure[]): Promise<void> {
  try {
    if (source.kind === 'url') {
      // Files are served outside the API (a redirect to a file host): they do not spend its rate budget,
      // and the credentials never follow the redirect.
      const res = await client.get(source.url, { responseType: 'arraybuffer', maxBytes: MAX_ATTACHMENT_DOWNLOAD_BYTES, signal, unmetered: true });
      file.content = res.data;
      if (!file.contentType || file.contentType === 'application/octet-stream') file.contentType = res.headers['content-type'] ?? file.contentType;
      return;
    }
    // base64 inside JSON: about 4/3 of the file, so the cap leaves room for the encoding.
    const res = await client.get(source.path, { maxBytes: Math.ceil(MAX_ATTACHMENT_DOWNLOAD_BYTES * 1.4) + 64 * 1024, signal });
    const encoded = source.select(res.data);
    if (typeof encoded !== 'string') throw new RecordError({ method: 'GET', path: source.path, status: res.status, detail: 'the answer holds no file data', reason: 'unprocessable' });
    const content = Buffer.from(encoded, 'base64');
    if (content.length > MAX_ATTACHMENT_DOWNLOAD_BYTES) {
      throw new RecordError({ method: 'GET', path: source.path, status: res.status, detail: `the file is larger than ${MAX_ATTACHMENT_DOWNLOAD_BYTES} bytes`, reason: 'too_large' });
    }
    file.content = content;
  } catch (err) {
    if (!(err instanceof RecordError) && !(err instanceof ProviderError)) throw err;
    file.refusal = { code: ATTACHMENT_NOT_FETCHED, reason: err.message };
    failures.push({ recordType: 'attachment', sourceId: file.sourceId, reason: `could not fetch ${file.fileName}: ${err.message}` });
  }
}
