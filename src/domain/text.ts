/** Postgres text cannot hold NUL; mail clients, providers and attackers do send it. */
export function stripNul<T extends string | null | undefined>(value: T): T {
  return (typeof value === 'string' ? value.replaceAll('\u0000', '') : value) as T;
}
