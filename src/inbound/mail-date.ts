/**
 * A Date header read by RFC 5322's grammar (section 3.3, with the obsolete forms of 4.3), not by
 * V8's forgiving Date parser, which reads almost anything: `Fri, 27 Apr 2018 19:00:00 +0100
 * (West-Europe (stand` (a comment cut off, as Postmark passes some through) is not a date.
 * An unreadable date is kept as sent and the caller uses the time the email was received.
 */

const MONTHS: Readonly<Record<string, number>> = Object.freeze({ jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 });

// RFC 5322 4.3 obs-zone; the military letters are "-0000" (no information), as the RFC says.
const ZONES: Readonly<Record<string, number>> = Object.freeze({ ut: 0, utc: 0, gmt: 0, z: 0, edt: -240, est: -300, cdt: -300, cst: -360, mdt: -360, mst: -420, pdt: -420, pst: -480 });

const RFC5322 =
  /^(?:(?:mon|tue|wed|thu|fri|sat|sun)\s*,\s*)?(\d{1,2})\s+([a-z]{3})\s+(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s+([+-]\d{2}:?\d{2}|[a-z]{1,3})$/i;
const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$/i;

/** Comments removed (nested ones too); null when a parenthesis is left open or closes nothing. */
function withoutComments(value: string): string | null {
  let depth = 0;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && depth > 0) i++;
    else if (ch === '(') depth++;
    else if (ch === ')') {
      if (depth === 0) return null;
      depth--;
      if (depth === 0) out += ' ';
    } else if (depth === 0) out += ch;
  }
  return depth === 0 ? out : null;
}

function build(year: number, month: number, day: number, hour: number, minute: number, second: number, offsetMinutes: number): Date | null {
  if (month < 0 || month > 11 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  if (day > daysInMonth) return null;
  const date = new Date(Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offsetMinutes * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The instant a Date header names, or null when it is not a date by RFC 5322 (or ISO 8601, which scripts send). */
export function parseMailDate(value: string | null | undefined): Date | null {
  if (!value) return null;
  const text = withoutComments(value)?.replace(/\s+/g, ' ').trim();
  if (!text) return null;
  const m = RFC5322.exec(text);
  if (m) {
    const month = MONTHS[m[2]!.toLowerCase()];
    if (month === undefined) return null;
    let year = Number(m[3]);
    // RFC 5322 4.3: two digits are 1950-2049, three digits are 1900 + n.
    if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
    else if (m[3]!.length === 3) year += 1900;
    // `-04:00` is no RFC 5322 zone, but it is unambiguous (Postmark's own sample sends it).
    const zone = m[7]!.replace(':', '');
    let offset: number;
    if (/^[+-]/.test(zone)) {
      const hh = Number(zone.slice(1, 3));
      const mm = Number(zone.slice(3, 5));
      if (mm > 59) return null;
      offset = (zone[0] === '-' ? -1 : 1) * (hh * 60 + mm);
    } else {
      const known = ZONES[zone.toLowerCase()];
      if (known === undefined && !/^[a-ik-z]$/i.test(zone)) return null;
      offset = known ?? 0;
    }
    return build(year, month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), offset);
  }
  const iso = ISO8601.exec(text);
  if (iso) {
    const zone = iso[7]!.replace(':', '');
    const offset = /^z$/i.test(zone) ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
    return build(Number(iso[1]), Number(iso[2]) - 1, Number(iso[3]), Number(iso[4]), Number(iso[5]), Number(iso[6] ?? 0), offset);
  }
  return null;
}
