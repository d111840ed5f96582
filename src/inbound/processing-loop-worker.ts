import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { createLogger } from '../cli/logger.ts';
import { createPool, warmPool } from '../db/pool.ts';
import { startInboundLoop } from './processing-loop.ts';
import { PROCESSING_NICE } from './processing-loop-thread.ts';
import { closeWorkers } from './worker-pool.ts';

/**
 * The inbound processing loop's thread (started by processing-loop-thread.ts): its own pool and
 * logger, woken by messages from the thread that receives mail. Its messages: `ready` once the
 * loop runs, `stopped` once a stop has let the batches in flight finish and closed the pool.
 */

const setup = z.object({
  databaseUrl: z.string(),
  poolSize: z.number().int().positive(),
  inboundDomain: z.string(),
  // A Buffer crosses threads as a Uint8Array.
  threadTokenKey: z.custom<Uint8Array>((key) => key instanceof Uint8Array).transform((key) => Buffer.from(key.buffer, key.byteOffset, key.byteLength)),
  logLevel: z.string(),
});
export type ProcessingThreadSetup = z.input<typeof setup>;

const message = z.discriminatedUnion('type', [
  z.object({ type: z.literal('wake'), which: z.enum(['small', 'large', 'all']) }),
  z.object({ type: z.literal('stop') }),
]);
export type ProcessingThreadMessage = z.infer<typeof message>;

const port = parentPort!;
const options = setup.parse(workerData);
try {
  setPriority(0, PROCESSING_NICE);
} catch {
  // Not allowed or not supported here: processing runs at the process's priority.
}
const logger = createLogger({ logLevel: options.logLevel as never }).child({ thread: 'inbound' });
const pool = createPool(options.databaseUrl, { max: options.poolSize, applicationName: 'intake-inbound' });
await warmPool(pool, options.poolSize);
const loop = startInboundLoop({ pool, inboundDomain: options.inboundDomain, threadTokenKey: options.threadTokenKey }, logger);

let stopping: Promise<void> | undefined;
port.on('message', (raw: unknown) => {
  const parsed = message.safeParse(raw);
  if (!parsed.success) return logger.error({ message: raw }, 'inbound thread: unknown message');
  if (parsed.data.type === 'wake') return loop.wake(parsed.data.which);
  stopping ??= (async () => {
    await loop.stop();
    await closeWorkers();
    await pool.end();
    port.postMessage({ type: 'stopped' });
    port.close();
  })();
});
port.postMessage({ type: 'ready' });
