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

/**
 * A text cut to at most `max` UTF-16 units for storage, and the UTF-8 size of the whole when it
 * was cut (null when stored whole). `knownSize` is the size of a whole the caller already cut.
 */
export function capText(value: string | null | undefined, max: number, knownSize?: number | null): { value: string | null; fullSize: number | null } {
  if (value === null || value === undefined) return { value: null, fullSize: null };
  const kept = clip(value, max);
  const whole = Math.max(kept.length < value.length ? Buffer.byteLength(value) : 0, knownSize ?? 0);
  return { value: kept, fullSize: whole > 0 && whole > Buffer.byteLength(kept) ? whole : null };
}
