import type pg from 'pg';

const texts = new Map<string, string>();

/**
 * A statement on a hot path (each inbound email, each webhook delivery), prepared once per
 * connection under `name`: PostgreSQL parses it once and, after a few runs, reuses its plan.
 * Planning was a third of the database time of a processed email (pg_stat_statements with
 * track_planning: 1.0 of 3.3 ms). Use as `db.query(STATEMENT, values)`. The text must be static:
 * one name, one text, or the connection would run the first text under the second's name.
 */
export function prepared(name: string, text: string): Readonly<pg.QueryConfig> {
  const known = texts.get(name);
  if (known !== undefined && known !== text) throw new Error(`prepared statement ${name} is declared twice with different texts`);
  texts.set(name, text);
  // Not frozen: pg copies the config of every query property by property, slower from a frozen object.
  return { name, text };
}

/**
 * A family of prepared statements that differ by a key (a row count, say): each text built and
 * named (`name-key`) once, on first use.
 */
export function preparedByKey<K extends string | number>(name: string, text: (key: K) => string): (key: K) => Readonly<pg.QueryConfig> {
  const made = new Map<K, Readonly<pg.QueryConfig>>();
  return (key) => {
    let statement = made.get(key);
    if (!statement) made.set(key, (statement = prepared(`${name}-${key}`, text(key))));
    return statement;
  };
}

/** Rows padded to a power of two: a few statement texts to prepare per connection, not one per batch size. */
export const paddedRows = (rows: number): number => 2 ** Math.ceil(Math.log2(rows));
