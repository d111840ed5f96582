/**
 * Postgres text cannot hold NUL, and jsonb refuses a lone UTF-16 surrogate; mail clients,
 * providers and attackers send both. NUL goes; a lone surrogate becomes U+FFFD.
 */
export function stripNul<T extends string | null | undefined>(value: T): T {
  if (typeof value !== 'string') return value;
  const clean = value.replaceAll('\u0000', '');
  return (clean.isWellFormed() ? clean : clean.toWellFormed()) as T;
}

/** At most `max` UTF-16 units, never cutting a character in half. */
export function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  return value.slice(0, max).replace(/[\uD800-\uDBFF]$/, '');
}
