/**
 * The fake Salesforce's SOQL: enough of the language for what an importer sends, with the
 * refusals Salesforce documents. SELECT fields (and parent relationship fields such as
 * `Account.Name`) FROM one object, WHERE with comparisons, IN, AND, OR, NOT and parentheses (AND
 * and OR never mixed without parentheses), ORDER BY with ASC/DESC and NULLS FIRST/LAST, LIMIT.
 * Literals: 'quoted strings' with backslash escapes, dateTime unquoted as
 * YYYY-MM-DDThh:mm:ss(Z|+hh:mm|-hh:mm), numbers, null, true, false. A quoted dateTime is
 * INVALID_FIELD; the form records come back in (`.000+0000`) is MALFORMED_QUERY.
 */

export type FieldType = 'id' | 'string' | 'datetime' | 'boolean';

/** One sObject: its fields (API name -> type) and its parent relationships (name -> id field, object). */
export type ObjectSchema = { name: string; fields: Record<string, FieldType>; parents?: Record<string, { idField: string; object: string }> };

export type SoqlErrorCode = 'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE' | 'INVALID_QUERY_FILTER_OPERATOR';

export class SoqlError extends Error {
  readonly errorCode: SoqlErrorCode;
  constructor(errorCode: SoqlErrorCode, message: string) {
    super(message);
    this.errorCode = errorCode;
  }
}

type Value = { kind: 'string'; value: string } | { kind: 'datetime'; value: number } | { kind: 'number'; value: number } | { kind: 'null' } | { kind: 'boolean'; value: boolean };

export type FieldRef = { relationship: string | null; field: string; type: FieldType };

export type Condition =
  | { op: 'and' | 'or'; parts: Condition[] }
  | { op: 'not'; part: Condition }
  | { op: 'cmp'; field: FieldRef; cmp: '=' | '!=' | '<' | '>' | '<=' | '>='; value: Value }
  | { op: 'in'; field: FieldRef; negated: boolean; values: Value[] };

export type Query = {
  object: ObjectSchema;
  select: FieldRef[];
  where: Condition | null;
  orderBy: Array<{ field: FieldRef; desc: boolean; nullsLast: boolean }>;
  limit: number | null;
};

type Token = { type: 'word' | 'string' | 'datetime' | 'number' | 'punct'; text: string; at: number };

const DATETIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})(?![\w.:+-])/y;
const DATE = /\d{4}-\d{2}-\d{2}(?![\w:])/y;
const NUMBER = /-?\d+(?:\.\d+)?(?![\w-])/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?/y;
const PUNCT = /<=|>=|!=|<>|[(),=<>]/y;

function malformed(soql: string, at: number, what: string): SoqlError {
  return new SoqlError('MALFORMED_QUERY', `\n${soql}\n${' '.repeat(Math.max(0, at))}^\nERROR at Row:1:Column:${at + 1}\n${what}`);
}

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const sticky = (re: RegExp) => {
    re.lastIndex = i;
    return re.exec(soql)?.[0];
  };
  while (i < soql.length) {
    const c = soql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let text = '';
      let j = i + 1;
      for (; j < soql.length && soql[j] !== "'"; j++) {
        if (soql[j] === '\\') {
          j++;
          const e = soql[j];
          text += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
        } else text += soql[j];
      }
      if (j >= soql.length) throw malformed(soql, i, 'unterminated string literal');
      tokens.push({ type: 'string', text, at: i });
      i = j + 1;
      continue;
    }
    const dt = sticky(DATETIME);
    if (dt) {
      tokens.push({ type: 'datetime', text: dt, at: i });
      i += dt.length;
      continue;
    }
    if (sticky(DATE)) {
      // A date where a dateTime is compared, or a dateTime with milliseconds or a +0000 offset.
      throw malformed(soql, i, `unexpected token: '${soql.slice(i).split(/[\s)]/)[0]}'`);
    }
    const n = sticky(NUMBER);
    if (n) {
      tokens.push({ type: 'number', text: n, at: i });
      i += n.length;
      continue;
    }
    const w = sticky(WORD);
    if (w) {
      tokens.push({ type: 'word', text: w, at: i });
      i += w.length;
      continue;
    }
    const p = sticky(PUNCT);
    if (p) {
      tokens.push({ type: 'punct', text: p === '<>' ? '!=' : p, at: i });
      i += p.length;
      continue;
    }
    throw malformed(soql, i, `unexpected token: '${c}'`);
  }
  return tokens;
}

const noSuchColumn = (field: string, object: string) =>
  new SoqlError(
    'INVALID_FIELD',
    `No such column '${field}' on entity '${object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  );

/** Parses one query against the objects the fake knows; `hidden` are `Object.Field` names this user may not see. */
export function parseSoql(soql: string, objects: Readonly<Record<string, ObjectSchema>>, hidden: ReadonlySet<string> = new Set()): Query {
  const tokens = tokenize(soql);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (t: Token | undefined, w: string) => t?.type === 'word' && t.text.toUpperCase() === w;
  const expect = (w: string) => {
    const t = tokens[pos];
    if (!isWord(t, w) && !(t?.type === 'punct' && t.text === w)) throw malformed(soql, t?.at ?? soql.length, `unexpected token: '${t?.text ?? '<EOF>'}'`);
    pos++;
  };

  expect('SELECT');
  const selectTokens: Token[] = [];
  for (;;) {
    const t = tokens[pos++];
    if (!t || t.type !== 'word') throw malformed(soql, t?.at ?? soql.length, `unexpected token: '${t?.text ?? '<EOF>'}'`);
    selectTokens.push(t);
    if (peek()?.type === 'punct' && peek()!.text === ',') {
      pos++;
      continue;
    }
    break;
  }
  expect('FROM');
  const from = tokens[pos++];
  if (!from || from.type !== 'word') throw malformed(soql, from?.at ?? soql.length, 'unexpected token: FROM');
  const object = Object.values(objects).find((o) => o.name.toLowerCase() === from.text.toLowerCase());
  if (!object) throw new SoqlError('INVALID_TYPE', `\n${soql}\n^\nERROR at Row:1:Column:${from.at + 1}\nsObject type '${from.text}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.`);

  const resolve = (text: string): FieldRef => {
    const [a, b] = text.split('.');
    if (b === undefined) {
      const name = Object.keys(object.fields).find((f) => f.toLowerCase() === a!.toLowerCase());
      if (!name || hidden.has(`${object.name}.${name}`)) throw noSuchColumn(a!, object.name);
      return { relationship: null, field: name, type: object.fields[name]! };
    }
    const rel = Object.entries(object.parents ?? {}).find(([r]) => r.toLowerCase() === a!.toLowerCase());
    const parent = rel ? objects[rel[1].object] : undefined;
    if (!rel || !parent) throw new SoqlError('INVALID_FIELD', `Didn't understand relationship '${a}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name.`);
    const name = Object.keys(parent.fields).find((f) => f.toLowerCase() === b.toLowerCase());
    if (!name || hidden.has(`${parent.name}.${name}`)) throw noSuchColumn(b, parent.name);
    return { relationship: rel[0], field: name, type: parent.fields[name]! };
  };
  const select = selectTokens.map((t) => resolve(t.text));

  const value = (field: FieldRef): Value => {
    const t = tokens[pos++];
    if (!t) throw malformed(soql, soql.length, "unexpected token: '<EOF>'");
    const v: Value =
      t.type === 'string' ? { kind: 'string', value: t.text }
      : t.type === 'datetime' ? { kind: 'datetime', value: Date.parse(t.text) }
      : t.type === 'number' ? { kind: 'number', value: Number(t.text) }
      : isWord(t, 'NULL') ? { kind: 'null' }
      : isWord(t, 'TRUE') || isWord(t, 'FALSE') ? { kind: 'boolean', value: t.text.toUpperCase() === 'TRUE' }
      : (() => {
          throw malformed(soql, t.at, `unexpected token: '${t.text}'`);
        })();
    if (v.kind === 'null') return v;
    const typeName = field.type === 'datetime' ? 'dateTime' : field.type;
    const quoted = field.type === 'id' || field.type === 'string';
    const fits = field.type === 'datetime' ? v.kind === 'datetime' : field.type === 'boolean' ? v.kind === 'boolean' : v.kind === 'string';
    if (!fits) {
      throw new SoqlError('INVALID_FIELD', `\n${soql}\n^\nERROR at Row:1:Column:${t.at + 1}\nvalue of filter criterion for field '${field.field}' must be of type ${typeName} and should${quoted ? '' : ' not'} be enclosed in quotes`);
    }
    if (field.type === 'id' && v.kind === 'string' && !/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/.test(v.value)) {
      throw new SoqlError('INVALID_QUERY_FILTER_OPERATOR', `\n${soql}\n^\nERROR at Row:1:Column:${t.at + 1}\ninvalid ID field: ${v.value}`);
    }
    return v;
  };

  const primary = (): Condition => {
    const t = peek();
    if (t?.type === 'punct' && t.text === '(') {
      pos++;
      const inner = condition();
      expect(')');
      return inner;
    }
    if (isWord(t, 'NOT')) {
      pos++;
      return { op: 'not', part: primary() };
    }
    if (!t || t.type !== 'word') throw malformed(soql, t?.at ?? soql.length, `unexpected token: '${t?.text ?? '<EOF>'}'`);
    pos++;
    const field = resolve(t.text);
    const negated = isWord(peek(), 'NOT');
    if (negated) pos++;
    if (isWord(peek(), 'IN')) {
      pos++;
      expect('(');
      const values = [value(field)];
      while (peek()?.type === 'punct' && peek()!.text === ',') {
        pos++;
        values.push(value(field));
      }
      expect(')');
      return { op: 'in', field, negated, values };
    }
    const op = tokens[pos++];
    if (negated || !op || op.type !== 'punct' || !['=', '!=', '<', '>', '<=', '>='].includes(op.text)) throw malformed(soql, op?.at ?? soql.length, `unexpected token: '${op?.text ?? '<EOF>'}'`);
    return { op: 'cmp', field, cmp: op.text as '=', value: value(field) };
  };

  // SOQL refuses AND and OR side by side without parentheses.
  function condition(): Condition {
    const parts = [primary()];
    let joiner: 'and' | 'or' | null = null;
    for (;;) {
      const t = peek();
      const j = isWord(t, 'AND') ? 'and' : isWord(t, 'OR') ? 'or' : null;
      if (!j) break;
      if (joiner && joiner !== j) throw malformed(soql, t!.at, `unexpected token: '${t!.text}'`);
      joiner = j;
      pos++;
      parts.push(primary());
    }
    return joiner ? { op: joiner, parts } : parts[0]!;
  }

  let where: Condition | null = null;
  if (isWord(peek(), 'WHERE')) {
    pos++;
    where = condition();
  }
  const orderBy: Query['orderBy'] = [];
  if (isWord(peek(), 'ORDER')) {
    pos++;
    expect('BY');
    for (;;) {
      const t = tokens[pos++];
      if (!t || t.type !== 'word') throw malformed(soql, t?.at ?? soql.length, `unexpected token: '${t?.text ?? '<EOF>'}'`);
      const field = resolve(t.text);
      let desc = false;
      if (isWord(peek(), 'ASC') || isWord(peek(), 'DESC')) desc = tokens[pos++]!.text.toUpperCase() === 'DESC';
      let nullsLast = desc;
      if (isWord(peek(), 'NULLS')) {
        pos++;
        const w = tokens[pos++];
        if (!isWord(w, 'FIRST') && !isWord(w, 'LAST')) throw malformed(soql, w?.at ?? soql.length, `unexpected token: '${w?.text ?? '<EOF>'}'`);
        nullsLast = w!.text.toUpperCase() === 'LAST';
      }
      orderBy.push({ field, desc, nullsLast });
      if (peek()?.type === 'punct' && peek()!.text === ',') {
        pos++;
        continue;
      }
      break;
    }
  }
  let limit: number | null = null;
  if (isWord(peek(), 'LIMIT')) {
    pos++;
    const t = tokens[pos++];
    if (t?.type !== 'number' || !Number.isInteger(Number(t.text))) throw malformed(soql, t?.at ?? soql.length, `unexpected token: '${t?.text ?? '<EOF>'}'`);
    limit = Number(t.text);
  }
  if (pos < tokens.length) throw malformed(soql, tokens[pos]!.at, `unexpected token: '${tokens[pos]!.text}'`);
  return { object, select, where, orderBy, limit };
}

/** A field's value for comparisons: datetimes as epoch milliseconds, everything else as it is. */
export type Lookup = (field: FieldRef) => string | number | boolean | null;

function compare(a: string | number | boolean, b: string | number | boolean): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function literal(v: Value): string | number | boolean | null {
  return v.kind === 'null' ? null : v.value;
}

export function matches(cond: Condition | null, get: Lookup): boolean {
  if (!cond) return true;
  switch (cond.op) {
    case 'and':
      return cond.parts.every((p) => matches(p, get));
    case 'or':
      return cond.parts.some((p) => matches(p, get));
    case 'not':
      return !matches(cond.part, get);
    case 'in': {
      const v = get(cond.field);
      const found = cond.values.some((x) => literal(x) === v);
      return cond.negated ? !found && v !== null : found;
    }
    case 'cmp': {
      const v = get(cond.field);
      const x = literal(cond.value);
      if (cond.cmp === '=') return v === x;
      if (cond.cmp === '!=') return v !== x;
      if (v === null || x === null) return false;
      const c = compare(v, x);
      return cond.cmp === '<' ? c < 0 : cond.cmp === '>' ? c > 0 : cond.cmp === '<=' ? c <= 0 : c >= 0;
    }
  }
}

/** The ORDER BY comparison of two rows' sort keys. */
export function orderRows(orderBy: Query['orderBy']): (a: Array<string | number | boolean | null>, b: Array<string | number | boolean | null>) => number {
  return (a, b) => {
    for (let i = 0; i < orderBy.length; i++) {
      const { desc, nullsLast } = orderBy[i]!;
      const x = a[i] ?? null;
      const y = b[i] ?? null;
      if (x === null || y === null) {
        if (x === y) continue;
        return (x === null) === nullsLast ? 1 : -1;
      }
      const c = compare(x, y);
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  };
}
