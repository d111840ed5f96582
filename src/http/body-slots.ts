import { PassThrough, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';
import { Semaphore } from './semaphore.ts';

export type BodySlotLimits = {
  /** Bodies longer than this (or of unknown length) are read only while holding one of the slots. */
  largeBody: number;
  slots: number;
  /** How long a large body waits for a slot before it is answered 503. */
  waitMs: number;
  /** A slot holder must send at least this much in every `windowMs`, or is answered 408. */
  minBytesPerSecond: number;
  windowMs: number;
};

/**
 * Four bodies in memory at once bounds memory; the rate keeps a slow sender from keeping a slot:
 * 32 KiB/s over any 5 s is 1/30 of a slow 10 Mbit/s link, and a 2 KiB/s trickle loses its slot
 * after 5 s instead of holding it for the 17 minutes it takes to send 2 MiB.
 */
export const DEFAULT_BODY_SLOTS: BodySlotLimits = Object.freeze({
  largeBody: 1024 * 1024,
  slots: 4,
  waitMs: 30_000,
  minBytesPerSecond: 32 * 1024,
  windowMs: 5_000,
});

const TICK_MS = 1_000;

/** Bounds how many large bodies are read at once and how long each may hold its slot. */
export function registerBodySlots(app: FastifyInstance, limits: BodySlotLimits = DEFAULT_BODY_SLOTS): void {
  const slots = new Semaphore(limits.slots);
  const holders = new WeakSet<FastifyRequest>();

  // Before the body is read: a body waiting for a slot stays in the sender's socket, not in memory.
  app.addHook('onRequest', async (request, reply) => {
    const length = Number(request.headers['content-length'] ?? Number.NaN);
    if (length <= limits.largeBody) return;
    const socket = request.raw.socket;
    if (socket.destroyed) throw new AppError('request_timeout', 'The client went away.');
    const gone = new AbortController();
    const onClose = () => gone.abort();
    socket.once('close', onClose);
    let release: () => void;
    try {
      release = await slots.acquire(AbortSignal.any([AbortSignal.timeout(limits.waitMs), gone.signal]));
    } catch {
      if (gone.signal.aborted) throw new AppError('request_timeout', 'The client went away while its body waited for a slot.');
      reply.header('retry-after', String(Math.ceil(limits.waitMs / 1000)));
      throw new AppError('service_unavailable', `Too many large messages are arriving at once; none finished within ${limits.waitMs / 1000} s. Retry later.`);
    } finally {
      socket.off('close', onClose);
    }
    // Held until the answer is sent or the connection dies, whichever comes first.
    reply.raw.once('close', release);
    if (socket.destroyed) return release();
    holders.add(request);
  });

  app.addHook('preParsing', async (request, reply, payload) => (holders.has(request) ? watchRate(payload, reply, limits) : payload));
}

/** The body through a watch that fails it with 408 when too little arrives in a window. */
function watchRate(source: Readable, reply: FastifyReply, limits: BodySlotLimits): Readable {
  const out = new PassThrough();
  const perWindow = (limits.minBytesPerSecond * limits.windowMs) / 1000;
  const ticksPerWindow = Math.max(1, Math.round(limits.windowMs / TICK_MS));
  let received = 0;
  // Bytes received at each of the last ticks: the window slides, so sending fast and then
  // trickling keeps the slot no longer than trickling from the start.
  const samples = [0];
  const timer = setInterval(() => {
    samples.push(received);
    if (samples.length <= ticksPerWindow) return;
    const windowStart = samples.shift()!;
    if (received - windowStart >= perWindow) return;
    clearInterval(timer);
    source.unpipe(out);
    // Read and drop the rest, so closing the socket does not reset it before the 408 arrives.
    source.resume();
    reply.header('connection', 'close');
    out.destroy(
      new AppError(
        'request_timeout',
        `The request body arrived too slowly: under ${limits.minBytesPerSecond / 1024} KiB/s over ${limits.windowMs / 1000} s (${received} bytes so far). Send it again at a normal speed.`,
      ),
    );
  }, TICK_MS);
  const stop = () => clearInterval(timer);
  source.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  source.once('end', stop);
  source.once('close', stop);
  source.once('error', (err) => {
    stop();
    out.destroy(err);
  });
  // Answered before the body ended (over the limit, say): drop the rest, as Node does unread bodies.
  reply.raw.once('close', () => {
    stop();
    if (!source.readableEnded) {
      source.unpipe(out);
      source.resume();
    }
  });
  out.once('close', stop);
  // Its reader may be gone by the time it fails; an unheard error must not take the process down.
  out.on('error', () => {});
  source.pipe(out);
  return out;
}
