/**
 * Data for the fake Salesforce: hand-written fixtures and a generator for benchmarks, both read
 * through one shape (`SalesforceSource`) so the routes never hold a big org in memory: records are
 * made on demand from their index, already in (SystemModstamp, Id) order.
 */

export type SfAccount = { Id: string; Name: string; Website: string | null; CreatedDate: string; SystemModstamp: string; LastModifiedDate: string };

export type SfContact = {
  Id: string;
  FirstName: string | null;
  LastName: string;
  Email: string | null;
  AccountId: string | null;
  CreatedDate: string;
  SystemModstamp: string;
  LastModifiedDate: string;
};

export type SalesforceSource = {
  contactCount: number;
  contactAt(i: number): SfContact;
  contactById(id: string): SfContact | undefined;
  accountCount: number;
  accountAt(i: number): SfAccount;
  accountById(id: string): SfAccount | undefined;
};

/** Salesforce's datetime form: `2024-03-01T12:00:00.000+0000`. */
export function sfTime(at: Date | number): string {
  return new Date(at).toISOString().replace('Z', '+0000');
}

/** An 18-character id: key prefix (001 Account, 003 Contact, 00D Organization), a pod, a base-36 number; sorts as the number. */
export function sfId(prefix: string, n: number): string {
  return `${prefix}5g000${n.toString(36).toUpperCase().padStart(7, '0')}AAA`;
}

function fromLists(accounts: SfAccount[], contacts: SfContact[]): SalesforceSource {
  const sorted = [...contacts].sort((a, b) => (a.SystemModstamp === b.SystemModstamp ? (a.Id < b.Id ? -1 : 1) : Date.parse(a.SystemModstamp.replace('+0000', 'Z')) - Date.parse(b.SystemModstamp.replace('+0000', 'Z'))));
  const contactIndex = new Map(sorted.map((c) => [c.Id, c]));
  const accountIndex = new Map(accounts.map((a) => [a.Id, a]));
  return {
    contactCount: sorted.length,
    contactAt: (i) => ({ ...sorted[i]! }),
    contactById: (id) => (contactIndex.has(id) ? { ...contactIndex.get(id)! } : undefined),
    accountCount: accounts.length,
    accountAt: (i) => ({ ...accounts[i]! }),
    accountById: (id) => (accountIndex.has(id) ? { ...accountIndex.get(id)! } : undefined),
  };
}

const account = (n: number, Name: string, Website: string | null, at: string): SfAccount => ({ Id: sfId('001', n), Name, Website, CreatedDate: at, SystemModstamp: at, LastModifiedDate: at });

function contact(n: number, c: { first: string | null; last: string; email: string | null; account: number | null; created: string; modified?: string }): SfContact {
  const modified = c.modified ?? c.created;
  return {
    Id: sfId('003', n),
    FirstName: c.first,
    LastName: c.last,
    Email: c.email,
    AccountId: c.account === null ? null : sfId('001', c.account),
    CreatedDate: c.created,
    SystemModstamp: modified,
    LastModifiedDate: modified,
  };
}

/**
 * A small org: five accounts (Umbrella has no contacts: it is not imported), twelve contacts (one
 * without email, one without account, one with neither, four bulk-loaded at one SystemModstamp
 * with old audit CreatedDates).
 */
export function salesforceFixtures(): SalesforceSource {
  const accounts = [
    account(1, 'Acme Corporation', 'www.acme-corp.test', '2023-01-10T09:00:00.000+0000'),
    account(2, 'Globex', 'https://globex.test/about', '2023-01-11T09:00:00.000+0000'),
    account(3, 'Initech', null, '2023-01-12T09:00:00.000+0000'),
    account(4, 'Umbrella', 'umbrella.test', '2023-01-13T09:00:00.000+0000'),
    account(5, 'Hooli', 'n/a', '2023-01-14T09:00:00.000+0000'),
  ];
  const bulk = '2024-03-01T12:00:00.000+0000';
  const contacts = [
    contact(1, { first: 'Alice', last: 'Adams', email: 'alice@acme-corp.test', account: 1, created: '2023-02-01T08:00:00.000+0000' }),
    contact(2, { first: 'Bob', last: 'Brown', email: 'bob@acme-corp.test', account: 1, created: '2023-02-02T08:00:00.000+0000' }),
    contact(3, { first: 'Carol', last: 'Chen', email: 'carol@globex.test', account: 2, created: '2023-02-03T08:00:00.000+0000' }),
    contact(4, { first: 'Dan', last: 'Dunn', email: null, account: 2, created: '2023-02-04T08:00:00.000+0000' }),
    contact(5, { first: 'Erin', last: 'Evans', email: 'erin@gmail.com', account: null, created: '2023-02-05T08:00:00.000+0000' }),
    contact(6, { first: null, last: 'Frank', email: null, account: null, created: '2023-02-06T08:00:00.000+0000' }),
    contact(7, { first: 'Grace', last: 'Green', email: 'grace@initech.test', account: 3, created: '2023-02-07T08:00:00.000+0000' }),
    contact(8, { first: 'Heidi', last: 'Hall', email: 'HEIDI@Hooli.test', account: 5, created: '2023-02-08T08:00:00.000+0000', modified: '2023-06-01T10:00:00.000+0000' }),
    // Loaded with audit fields: created "in 2015", all four with the load's SystemModstamp.
    contact(12, { first: 'Leo', last: 'Lane', email: 'leo@globex.test', account: 2, created: '2015-05-01T00:00:00.000+0000', modified: bulk }),
    contact(9, { first: 'Ivan', last: 'Ito', email: 'ivan@acme-corp.test', account: 1, created: '2015-05-01T00:00:00.000+0000', modified: bulk }),
    contact(11, { first: 'Ken', last: 'Kim', email: 'ken@acme-corp.test', account: 1, created: '2015-05-03T00:00:00.000+0000', modified: bulk }),
    contact(10, { first: 'Judy', last: 'Jones', email: 'judy@globex.test', account: 2, created: '2015-05-02T00:00:00.000+0000', modified: bulk }),
  ];
  return fromLists(accounts, contacts);
}

/** mulberry32: a small seeded generator, so generated orgs are the same on every run. */
function seeded(seed: number): (n: number) => number {
  return (n) => {
    let t = (seed + Math.imul(n, 0x6d2b79f5)) >>> 0;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Ben', 'Cleo', 'Dev', 'Eli', 'Fay', 'Gus', 'Hana', 'Ivo', 'Jin', 'Kai', 'Lena', 'Milo', 'Nia', 'Otto', 'Pia'];
const LAST = ['Ng', 'Okafor', 'Smith', 'Garcia', 'Müller', 'Rossi', 'Kowalski', 'Tanaka', 'Dubois', 'Silva', 'Novak', 'Berg'];

export type GenerateOptions = {
  contacts: number;
  accounts: number;
  seed?: number;
  /** Every Nth contact has no email (0: none). Default 25. */
  noEmailEvery?: number;
  /** Every Nth contact has no account (0: none). Default 20. */
  noAccountEvery?: number;
  /** Contacts sharing one SystemModstamp, as a bulk load leaves them. Default 50. */
  sameModstamp?: number;
};

/** A generated org; contact i has SystemModstamp 2022-01-01 + floor(i / sameModstamp) seconds, ids rising with i. */
export function generateSalesforce(o: GenerateOptions): SalesforceSource {
  const random = seeded(o.seed ?? 1);
  const noEmail = o.noEmailEvery ?? 25;
  const noAccount = o.noAccountEvery ?? 20;
  const group = Math.max(1, o.sameModstamp ?? 50);
  const base = Date.UTC(2022, 0, 1);
  const accountAt = (i: number): SfAccount => {
    const at = sfTime(base - (i + 1) * 60_000);
    return { Id: sfId('001', i + 1), Name: `Company ${i + 1}`, Website: i % 7 === 3 ? null : `https://www.company-${i + 1}.test`, CreatedDate: at, SystemModstamp: at, LastModifiedDate: at };
  };
  const contactAt = (i: number): SfContact => {
    const modified = sfTime(base + Math.floor(i / group) * 1000);
    const first = FIRST[Math.floor(random(i * 3) * FIRST.length)]!;
    const last = LAST[Math.floor(random(i * 3 + 1) * LAST.length)]!;
    const hasAccount = !(noAccount > 0 && i % noAccount === noAccount - 1);
    const accountIndex = Math.floor(random(i * 3 + 2) * o.accounts);
    const domain = hasAccount ? `company-${accountIndex + 1}.test` : 'example.test';
    return {
      Id: sfId('003', i + 1),
      FirstName: first,
      LastName: last,
      Email: noEmail > 0 && i % noEmail === noEmail - 1 ? null : `${first.toLowerCase()}.${i + 1}@${domain}`,
      AccountId: hasAccount && o.accounts > 0 ? sfId('001', accountIndex + 1) : null,
      // Audit fields: created long before the import saw it change.
      CreatedDate: sfTime(base - Math.floor(random(i * 3) * 3 * 365) * 86_400_000),
      SystemModstamp: modified,
      LastModifiedDate: modified,
    };
  };
  const indexOf = (id: string, prefix: string, count: number) => {
    if (!id.startsWith(`${prefix}5g000`)) return undefined;
    const n = parseInt(id.slice(8, 15), 36);
    return Number.isInteger(n) && n >= 1 && n <= count && sfId(prefix, n) === id ? n - 1 : undefined;
  };
  return {
    contactCount: o.contacts,
    contactAt,
    contactById: (id) => {
      const i = indexOf(id, '003', o.contacts);
      return i === undefined ? undefined : contactAt(i);
    },
    accountCount: o.accounts,
    accountAt,
    accountById: (id) => {
      const i = indexOf(id, '001', o.accounts);
      return i === undefined ? undefined : accountAt(i);
    },
  };
}
