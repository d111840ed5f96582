import { encodeTime } from 'ulid';
import { ID_PREFIX, type IdKind } from './ids.ts';

/**
 * The smallest id of this kind made at or after `at`: ids are a prefix and a ULID, which sorts by
 * time, so "made since" becomes a range on an index that holds the id.
 */
export function firstIdAt(kind: IdKind, at: Date): string {
  return `${ID_PREFIX[kind]}_${encodeTime(Math.max(0, at.getTime()), 10)}${'0'.repeat(16)}`;
}
