import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { judgeAttachments } from '../domain/attachment-rules.ts';
import type { ImportedBlob } from '../domain/attachments.ts';
import type { AttachmentRecord, EntryRecord, RecordFailure, StreamContext, StreamPage } from './adapter.ts';
import { ATTACHMENT_NOT_FETCHED, MAX_ATTACHMENT_DOWNLOAD_BYTES, newAttachmentBudget, precheckAttachment } from './attachment-precheck.ts';
import { ByteBudget } from './byte-budget.ts';
import { ProviderError, RecordError } from './errors.ts';
import type { ProviderClient } from './http-client.ts';

/**
 * The engine's half of attachments: adapters say where a file is, this fetches what Plain's
 * rules let in, judges it on its bytes and stores the accepted bytes. Only entries the ledger does
 * not hold yet are fetched; each entry's 25-file / 6 MB budget is spent on declared sizes first,
 * so refused files are never downloaded.
 *
 * Memory stays bounded whatever a page holds: the bytes in hand (downloading, judged, waiting to
 * be stored) never pass ATTACHMENT_BYTES_IN_MEMORY for the whole process, so a page's files are
 * fetched in turn, an entry at a time as room frees up. Accepted bytes are stored as they come
 * (`storeBlobs`, outside the page's transaction; blobs are content-addressed, so a page fetched
 * again after a crash stores nothing new) and only their hash stays with the page: the page's
 * commit, atomic with its cursor, then writes rows that hold no bytes.
 */

export type FetchedAttachment = Omit<AttachmentRecord, 'source'> & {
  /** What was fetched: the bytes' hash and length (accepted bytes are stored already); null when nothing was. */
  fetched: { sha256: string; size: number } | null;
  /** Plain's verdict: accepted (with the judged name), or refused with a code, before fetching, while fetching or on the bytes. */
  verdict: { status: 'accepted' } | { status: 'rejected'; code: string };
};
export type FetchedEntry = Omit<EntryRecord, 'attachments'> & { attachments: FetchedAttachment[] };
export type FetchedPage = Omit<StreamPage, 'entries'> & { entries?: FetchedEntry[] };

/** Stores accepted bytes once per hash (the engine binds it to the run's workspace). */
export type StoreBlobs = (blobs: ImportedBlob[]) => Promise<void>;

/** Attachment bytes in memory at once, across every run of this process. */
export const ATTACHMENT_BYTES_IN_MEMORY = 12 * 1024 * 1024;
/**
 * Accepted bytes gathered before they are stored in one statement: small files share a statement,
 * a large one has its own (the driver copies a statement's parameters into one more buffer).
 */
const STORE_BATCH_BYTES = 4 * 1024 * 1024;
const DOWNLOAD_CONCURRENCY = 8;
/** Copies of a file in memory while it downloads: the response's pieces and the joined bytes. */
const DOWNLOAD_COPIES = 2;

const processBudget = new ByteBudget(ATTACHMENT_BYTES_IN_MEMORY);

/** Attachment bytes this process holds now, and fetches waiting for room (zero between runs: nothing leaks). */
export function attachmentBytesInMemory(): { held: number; waiting: number } {
  return { held: processBudget.held, waiting: processBudget.waiting };
}

/**
 * Large files' bytes are kept in slabs reused from one file to the next, and the download's own
 * buffer is dropped at once: it dies young and is freed by the next minor collection. Bytes held
 * for longer (judged, then stored) would otherwise outlive minor collections and pile up as old
 * garbage until a full one, far beyond the budget.
 */
class Slabs {
  readonly #free: Buffer[] = [];
  readonly #slabBytes: number;
  readonly #keep: number;

  constructor(slabBytes: number, keep: number) {
    this.#slabBytes = slabBytes;
    this.#keep = keep;
  }

  /** The bytes, copied into a slab when they are large; `release` hands the slab back once they are no longer needed. */
  adopt(bytes: Buffer): { content: Buffer; release: () => void } {
    if (bytes.length < SLAB_MIN_BYTES || bytes.length > this.#slabBytes) return { content: bytes, release: () => {} };
    const slab = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#slabBytes);
    bytes.copy(slab);
    let released = false;
    return {
      content: slab.subarray(0, bytes.length),
      release: () => {
        if (released) return;
        released = true;
        if (this.#free.length < this.#keep) this.#free.push(slab);
      },
    };
  }
}

const SLAB_MIN_BYTES = 1024 * 1024;
const processSlabs = new Slabs(MAX_ATTACHMENT_DOWNLOAD_BYTES, Math.ceil(ATTACHMENT_BYTES_IN_MEMORY / MAX_ATTACHMENT_DOWNLOAD_BYTES) + 1);

type Planned = { file: FetchedAttachment; source: AttachmentRecord['source']; content: Buffer | null; release: () => void };

export async function fetchAttachments(client: ProviderClient, page: StreamPage, ctx: StreamContext, storeBlobs: StoreBlobs, budget: ByteBudget = processBudget): Promise<FetchedPage> {
  const entries = page.entries ?? [];
  const withFiles = entries.filter((e) => e.attachments.length > 0);
  if (withFiles.length === 0) return page as FetchedPage;
  const known = await ctx.known('entry', withFiles.map((e) => e.sourceId));
  const failures: RecordFailure[] = [...(page.failures ?? [])];
  // The first failure stops the page's other downloads.
  const failed = new AbortController();
  const deps: EntryDeps = {
    limit: pLimit(DOWNLOAD_CONCURRENCY),
    budget,
    store: new BlobBatch(storeBlobs, budget),
    failures,
    signal: AbortSignal.any([ctx.signal, failed.signal]),
    fail: (err) => failed.abort(err),
  };
  const fetchingEntries: Array<Promise<void>> = [];
  const fetched = entries.map((entry): FetchedEntry => {
    // An entry already imported is skipped whole by the writer: its files are not fetched again.
    const isNew = !known.has(entry.sourceId);
    const entryBudget = newAttachmentBudget();
    const planned: Planned[] = [];
    const attachments = entry.attachments.map(({ source, ...declared }): FetchedAttachment => {
      const file: FetchedAttachment = { ...declared, fetched: null, verdict: { status: 'rejected', code: ATTACHMENT_NOT_FETCHED } };
      if (!isNew) return file;
      const refusal = precheckAttachment(file.fileName, file.size, entryBudget);
      if (refusal) {
        file.verdict = { status: 'rejected', code: refusal.code };
        return file;
      }
      planned.push({ file, source, content: null, release: () => {} });
      return file;
    });
    if (planned.length > 0) fetchingEntries.push(fetchEntry(client, planned, deps).catch((err: unknown) => (deps.fail(err), Promise.reject(err))));
    return { ...entry, attachments };
  });
  // Every entry ends (and gives its bytes back) before the page does, failed or not.
  const settled = await Promise.allSettled(fetchingEntries);
  const failure = settled.find((s) => s.status === 'rejected');
  if (failure) {
    await deps.store.discard();
    throw failure.reason;
  }
  await deps.store.flush();
  return { ...page, entries: fetched, failures };
}

type EntryDeps = { limit: ReturnType<typeof pLimit>; budget: ByteBudget; store: BlobBatch; failures: RecordFailure[]; signal: AbortSignal; fail: (err: unknown) => void };

/**
 * One entry's files: room for their declared sizes is taken first, they are downloaded, judged
 * together (the entry's rules need them all), the accepted bytes handed to the store and the
 * refused ones dropped.
 */
async function fetchEntry(client: ProviderClient, planned: Planned[], deps: EntryDeps): Promise<void> {
  const declared = planned.reduce((sum, p) => sum + p.file.size, 0);
  // While a file downloads it is in memory twice (the received pieces, then the joined bytes).
  const downloading = DOWNLOAD_COPIES * declared;
  // About to wait for room: this page's gathered bytes are stored first (never held while anyone waits).
  if (!deps.budget.fits(downloading)) await deps.store.flush();
  await deps.budget.take(downloading, deps.signal);
  let held = downloading;
  try {
    // Every download of the entry ends before its bytes are counted back; the first failure stops the others.
    const downloads = await Promise.allSettled(
      planned.map((p) =>
        deps.limit(async () => {
          deps.signal.throwIfAborted();
          const bytes = await download(client, p.file, p.source, deps.signal, deps.failures).catch((err: unknown) => {
            deps.fail(err);
            throw err;
          });
          if (bytes) ({ content: p.content, release: p.release } = processSlabs.adopt(bytes));
          // A file larger than it said: the debt holds back later entries, never this one.
          const extra = (p.content?.length ?? 0) - p.file.size;
          if (extra > 0) {
            deps.budget.charge(extra);
            held += extra;
          }
          // Downloaded: only the joined bytes remain.
          const pieces = (DOWNLOAD_COPIES - 1) * p.file.size;
          deps.budget.give(pieces);
          held -= pieces;
        }),
      ),
    );
    const failure = downloads.find((d) => d.status === 'rejected');
    if (failure) throw failure.reason;
    const got = planned.filter((p) => p.content !== null);
    const decisions = judgeAttachments(got.map((p) => ({ fileName: p.file.fileName, contentType: p.file.contentType, content: p.content! })));
    const accepted: Pending[] = [];
    got.forEach((p, i) => {
      const d = decisions[i]!;
      const content = p.content!;
      const sha256 = createHash('sha256').update(content).digest('hex');
      p.file.fetched = { sha256, size: content.length };
      p.file.fileName = d.fileName;
      p.file.verdict = d.status === 'accepted' ? { status: 'accepted' } : { status: 'rejected', code: d.code };
      if (d.status === 'accepted') accepted.push({ blob: { sha256, content }, release: p.release });
      else p.release();
      p.content = null;
    });
    // The store now holds the accepted bytes' room (and gives it back once they are written).
    const kept = accepted.reduce((sum, a) => sum + a.blob.content.length, 0);
    deps.store.add(accepted, kept);
    held -= kept;
    if (deps.store.bytes >= STORE_BATCH_BYTES || deps.budget.waiting > 0) await deps.store.flush();
  } finally {
    for (const p of planned) {
      // Bytes the store did not take (a failure on the way) go back to their slab.
      if (p.content) p.release();
      p.content = null;
    }
    deps.budget.give(held);
  }
}

type Pending = { blob: ImportedBlob; release: () => void };

/** Accepted bytes waiting to be stored, written a batch at a time, one statement after another. */
class BlobBatch {
  #pending: Pending[] = [];
  #bytes = 0;
  #writing: Promise<void> = Promise.resolve();
  readonly #storeBlobs: StoreBlobs;
  readonly #budget: ByteBudget;

  constructor(storeBlobs: StoreBlobs, budget: ByteBudget) {
    this.#storeBlobs = storeBlobs;
    this.#budget = budget;
  }

  get bytes(): number {
    return this.#bytes;
  }

  add(items: Pending[], bytes: number): void {
    this.#pending.push(...items);
    this.#bytes += bytes;
  }

  /** Drops what is pending and waits for a write under way: the page failed. */
  async discard(): Promise<void> {
    const dropped = this.#take();
    for (const p of dropped.items) p.release();
    this.#budget.give(dropped.bytes);
    await this.#writing;
  }

  /** Stores what is pending (after any write already under way); the bytes' room is given back either way. */
  flush(): Promise<void> {
    const { items, bytes } = this.#take();
    const write = this.#writing.then(async () => {
      try {
        if (items.length > 0) await this.#storeBlobs(items.map((p) => p.blob));
      } finally {
        // The statement is done with the bytes: the driver copied them when it sent it.
        for (const p of items) p.release();
        this.#budget.give(bytes);
      }
    });
    // A failed write fails its own flush; the next ones still run.
    this.#writing = write.catch(() => undefined);
    return write;
  }

  #take(): { items: Pending[]; bytes: number } {
    const taken = { items: this.#pending, bytes: this.#bytes };
    this.#pending = [];
    this.#bytes = 0;
    return taken;
  }
}

/** The file's bytes, or null (and a refusal recorded) when the provider could not give them. */
async function download(client: ProviderClient, file: FetchedAttachment, source: AttachmentRecord['source'], signal: AbortSignal, failures: RecordFailure[]): Promise<Buffer | null> {
  try {
    if (source.kind === 'url') {
      // Files are served outside the API (a redirect to a file host): they do not spend its rate budget,
      // and the credentials never follow the redirect.
      const res = await client.get(source.url, { responseType: 'arraybuffer', maxBytes: MAX_ATTACHMENT_DOWNLOAD_BYTES, signal, unmetered: true });
      if (!file.contentType || file.contentType === 'application/octet-stream') file.contentType = res.headers['content-type'] ?? file.contentType;
      return res.data;
    }
    // base64 inside JSON: about 4/3 of the file, so the cap leaves room for the encoding.
    const res = await client.get(source.path, { maxBytes: Math.ceil(MAX_ATTACHMENT_DOWNLOAD_BYTES * 1.4) + 64 * 1024, signal });
    const encoded = source.select(res.data);
    if (typeof encoded !== 'string') throw new RecordError({ method: 'GET', path: source.path, status: res.status, detail: 'the answer holds no file data', reason: 'unprocessable' });
    const content = Buffer.from(encoded, 'base64');
    if (content.length > MAX_ATTACHMENT_DOWNLOAD_BYTES) {
      throw new RecordError({ method: 'GET', path: source.path, status: res.status, detail: `the file is larger than ${MAX_ATTACHMENT_DOWNLOAD_BYTES} bytes`, reason: 'too_large' });
    }
    return content;
  } catch (err) {
    if (!(err instanceof RecordError) && !(err instanceof ProviderError)) throw err;
    file.verdict = { status: 'rejected', code: ATTACHMENT_NOT_FETCHED };
    failures.push({ recordType: 'attachment', sourceId: file.sourceId, reason: `could not fetch ${file.fileName}: ${err.message}` });
    return null;
  }
}
