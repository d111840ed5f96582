import type { Queryable } from '../../src/db/pool.ts';

export type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] };

/** Every node of a plan, the root first. */
export const planNodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(planNodes)];

/**
 * A Queryable that EXPLAINs each statement with its own values before running it, collecting the
 * plans: for tests of how the planner reads a young table (one with no statistics yet).
 */
export function explaining(db: Queryable): { db: Queryable; plans: PlanNode[] } {
  const plans: PlanNode[] = [];
  const wrapped = {
    query: async (statement: string | { text: string }, values?: unknown[]) => {
      const text = typeof statement === 'string' ? statement : statement.text;
      const { rows } = await db.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
      plans.push(rows[0]['QUERY PLAN'][0].Plan);
      return db.query(text, values);
    },
  } as Queryable;
  return { db: wrapped, plans };
}

/** How each scan of `table` in the plans reads it: node type and index. */
export function scansOf(plans: PlanNode[], table: string): Array<{ node: string; index: string | undefined }> {
  return plans.flatMap(planNodes).filter((n) => n['Relation Name'] === table).map((n) => ({ node: n['Node Type'], index: n['Index Name'] }));
}
