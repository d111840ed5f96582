/**
 * The rows a multi-row statement returned (in no particular order), in the order of the ids it was
 * given; an id it did not return is `missing(i)`'s error (its parent row was not in the workspace).
 */
export function inGivenOrder<T extends { id: string }>(ids: string[], returned: T[], missing: (i: number) => Error): T[] {
  const byId = new Map(returned.map((row) => [row.id, row]));
  return ids.map((id, i) => {
    const row = byId.get(id);
    if (!row) throw missing(i);
    return row;
  });
}
