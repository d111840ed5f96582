import { randomBytes } from 'node:crypto';
import { withTransaction } from '../src/db/pool.ts';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import { openBenchDatabase, percentile, runConcurrently } from './support/bench-database.ts';

/**
 * Customer resolution, the step every inbound email and every imported person takes: find or
 * create by email (with company inference), one transaction each, concurrency 16. Baseline in the
 * same run: a bare single-row INSERT of the same emails into a table of the same shape.
 */
export async function benchCustomers(n = Number(process.env.BENCH_CUSTOMERS ?? 5000)): Promise<void> {
  const db = await openBenchDatabase();
  try {
    const { workspace } = await createWorkspace(db.pool, randomBytes(32), { name: 'Bench', supportAddress: 'help@bench.dev' });
    const domains = Array.from({ length: 200 }, (_, i) => `company${i}.com`).concat(['gmail.com', 'outlook.com']);
    const emails = Array.from({ length: n }, (_, i) => `person${i}@${domains[i % domains.length]}`);
    await db.pool.query('CREATE TABLE bench_baseline (LIKE customers INCLUDING DEFAULTS)');
    await db.pool.query('CREATE UNIQUE INDEX ON bench_baseline (workspace_id, email)');

    const baselineStart = performance.now();
    const baselineLat = await runConcurrently(n, 16, (i) =>
      db.pool.query(`INSERT INTO bench_baseline (id, workspace_id, email, full_name, origin) VALUES ($1, $2, $3, $4, 'email')`, [`c_${i}`, workspace.id, emails[i], `Person ${i}`]),
    );
    const baselineSec = (performance.now() - baselineStart) / 1000;

    const createStart = performance.now();
    const createLat = await runConcurrently(n, 16, (i) =>
      withTransaction(db.pool, (tx) => findOrCreateCustomerByEmail({ db: tx, workspaceId: workspace.id, origin: 'email' }, { email: emails[i]!, fullName: `Person ${i}` })),
    );
    const createSec = (performance.now() - createStart) / 1000;

    // The common case once a customer exists: a repeat sender.
    const repeatStart = performance.now();
    await runConcurrently(n, 16, (i) =>
      withTransaction(db.pool, (tx) => findOrCreateCustomerByEmail({ db: tx, workspaceId: workspace.id, origin: 'email' }, { email: emails[i]!.toUpperCase() })),
    );
    const repeatSec = (performance.now() - repeatStart) / 1000;

    const rate = (s: number) => Math.round(n / s);
    console.log(`customers (${n} emails, concurrency 16, ${db.describe})`);
    console.log(`  baseline single-row INSERT:     ${rate(baselineSec)}/s  p50 ${percentile(baselineLat, 50).toFixed(2)} ms  p99 ${percentile(baselineLat, 99).toFixed(2)} ms`);
    console.log(`  find-or-create (new customer):  ${rate(createSec)}/s  p50 ${percentile(createLat, 50).toFixed(2)} ms  p99 ${percentile(createLat, 99).toFixed(2)} ms  ratio ${(baselineSec / createSec).toFixed(2)}x of baseline`);
    console.log(`  find-or-create (existing):      ${rate(repeatSec)}/s  ratio ${(baselineSec / repeatSec).toFixed(2)}x of baseline`);
  } finally {
    await db.close();
  }
}
