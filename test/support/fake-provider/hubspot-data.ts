import { seeded } from '../kill-points.ts';

/**
 * Data for the fake HubSpot: hand-written fixtures covering the mapping's cases, and a seeded
 * generator for any size (tests of the search cap, the SIGKILL test, the benchmark). Shapes follow
 * HubSpot's CRM objects: numeric-string ids, string property values, ISO times with milliseconds.
 */

export type HContact = {
  id: string;
  email: string | null;
  firstname: string | null;
  lastname: string | null;
  /** The free-text `company` property: not a link, never a tenant. */
  company?: string | null;
  additionalEmails?: string | null;
  createdate: string;
  lastmodifieddate: string;
  archived?: boolean;
  /** Linked companies; the first is the primary one (HubSpot lists it under two association types). */
  companyIds: string[];
};

export type HCompany = { id: string; name: string | null; domain: string | null; createdate: string; archived?: boolean };

export type HubSpotSource = { contacts: HContact[]; companies: HCompany[] };

const at = (day: number, minute = 0) => new Date(Date.UTC(2023, 0, 1) + day * 86_400_000 + minute * 60_000).toISOString();

/**
 * The fixtures: Alice in two companies (Acme as primary, so listed twice), Bob in Acme, Carol without
 * email in Initech, Dave with only a free-text company, a nameless contact with neither name nor
 * email, Erin with an additional address and a company whose domain was typed as a URL, Grace
 * linked to a company HubSpot deleted, an archived contact, and Hooli whom nobody links to.
 */
export function hubspotFixtures(): HubSpotSource {
  const companies: HCompany[] = [
    { id: '9001', name: 'Acme Corp', domain: 'acme.example', createdate: at(0) },
    { id: '9002', name: 'Globex', domain: 'https://www.Globex.example/about', createdate: at(1) },
    { id: '9003', name: 'Initech', domain: 'initech.example', createdate: at(2) },
    { id: '9004', name: 'Hooli', domain: 'hooli.example', createdate: at(3) },
    { id: '9005', name: null, domain: 'nameless.example', createdate: at(4) },
  ];
  const contacts: HContact[] = [
    { id: '101', email: 'alice@acme.example', firstname: 'Alice', lastname: 'Anders', createdate: at(10), lastmodifieddate: at(10, 5), companyIds: ['9001', '9003'] },
    { id: '102', email: 'Bob@Acme.example', firstname: 'Bob', lastname: 'Builder', createdate: at(11), lastmodifieddate: at(11, 5), companyIds: ['9001'] },
    { id: '103', email: null, firstname: 'Carol', lastname: 'Caller', createdate: at(12), lastmodifieddate: at(12, 5), companyIds: ['9003'] },
    { id: '104', email: 'dave@solo.example', firstname: 'Dave', lastname: null, company: "Dave's Free Text Co", createdate: at(13), lastmodifieddate: at(13, 5), companyIds: [] },
    { id: '105', email: null, firstname: null, lastname: null, createdate: at(14), lastmodifieddate: at(14, 5), companyIds: [] },
    { id: '106', email: 'erin@globex.example', firstname: 'Erin', lastname: 'Ellis', additionalEmails: 'erin.alt@globex.example;erin@globex.example', createdate: at(15), lastmodifieddate: at(15, 5), companyIds: ['9002'] },
    { id: '107', email: 'gone@acme.example', firstname: 'Archie', lastname: 'Archived', createdate: at(16), lastmodifieddate: at(16, 5), archived: true, companyIds: ['9001'] },
    { id: '108', email: 'grace@initech.example', firstname: 'Grace', lastname: 'Hopper', createdate: at(17), lastmodifieddate: at(17, 5), companyIds: ['9999', '9005'] },
  ];
  return { contacts, companies };
}

export type GenerateOptions = {
  contacts: number;
  companies: number;
  seed?: number;
  /** The first contact's id (later ones count up) and the first company's. */
  firstContactId?: number;
  firstCompanyId?: number;
  /** `lastmodifieddate` of the first contact; each next one is `stepMs` later. Default 2022-01-01, 60 s. */
  modifiedFrom?: number;
  stepMs?: number;
  /** This many consecutive contacts share one `lastmodifieddate` (ties HubSpot breaks by id). Default 1. */
  tieGroup?: number;
};

/**
 * A seeded account: about 1 in 25 contacts without email, 1 in 30 without a name, 1 in 5 without a
 * company, 1 in 7 in two companies; 1 in 20 companies without a domain.
 */
export function generateHubSpot(o: GenerateOptions): HubSpotSource {
  const random = seeded(o.seed ?? 1);
  const firstContact = o.firstContactId ?? 1_000_001;
  const firstCompany = o.firstCompanyId ?? 5_000_001;
  const from = o.modifiedFrom ?? Date.UTC(2022, 0, 1);
  const step = o.stepMs ?? 60_000;
  const tie = Math.max(1, o.tieGroup ?? 1);
  const companies: HCompany[] = [];
  for (let i = 0; i < o.companies; i++) {
    const id = firstCompany + i;
    companies.push({ id: String(id), name: `Company ${id}`, domain: i % 20 === 19 ? null : `company${id}.example`, createdate: new Date(from - 86_400_000 + i * 1000).toISOString() });
  }
  const contacts: HContact[] = [];
  for (let i = 0; i < o.contacts; i++) {
    const id = firstContact + i;
    const modified = from + Math.floor(i / tie) * step;
    const r = random();
    const links: string[] = [];
    if (companies.length > 0 && r >= 0.2) {
      links.push(companies[Math.floor(random() * companies.length)]!.id);
      if (r >= 1 - 1 / 7) {
        const other = companies[Math.floor(random() * companies.length)]!.id;
        if (other !== links[0]) links.push(other);
      }
    }
    const domain = links[0] ? `company${links[0]}.example` : 'example.org';
    contacts.push({
      id: String(id),
      email: i % 25 === 24 ? null : `contact${id}@${domain}`,
      firstname: i % 30 === 29 ? null : `First${id}`,
      lastname: i % 30 === 29 ? null : `Last${id}`,
      createdate: new Date(modified - 3_600_000).toISOString(),
      lastmodifieddate: new Date(modified).toISOString(),
      companyIds: links,
    });
  }
  return { contacts, companies };
}
