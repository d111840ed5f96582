import { IMPORT_ADAPTERS } from '../../importers/index.ts';
import type { Config } from '../config.ts';
import type { Pool } from '../db/pool.ts';
import { IMPORT_USER_AGENT } from '../import/user-agent.ts';
import type { ImportWorkerDeps } from '../jobs/import-worker.ts';

/**
 * What every import entry point needs (the service's worker and API, the CLI's connect and
 * foreground runs), assembled once from the configuration: the importers, the user agent, the
 * private-address switch, the lease, slice and scheduler timings.
 */
export function importDeps(config: Config, pool: Pool, secretsKey: Buffer): ImportWorkerDeps {
  return {
    pool,
    secretsKey,
    adapters: IMPORT_ADAPTERS,
    leaseMs: config.importLeaseSeconds * 1000,
    sliceMs: config.importSliceSeconds * 1000,
    schedulerMs: config.importSchedulerSeconds * 1000,
    userAgent: IMPORT_USER_AGENT,
    allowPrivate: config.importAllowPrivate,
  };
}

/**
 * The operator's own command line: it may point a connection at a local server (the fake
 * provider, a sandbox) and runs to the end in the foreground instead of in slices.
 */
export function operatorImportDeps(config: Config, pool: Pool, secretsKey: Buffer): ImportWorkerDeps {
  return { ...importDeps(config, pool, secretsKey), allowPrivate: true, sliceMs: Number.POSITIVE_INFINITY };
}
