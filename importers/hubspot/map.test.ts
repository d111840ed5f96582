import { describe, expect, it } from 'vitest';
import { companyDomain, mapCompany, mapContact } from './map.ts';

describe('the mapping', () => {
  const contact = (properties: Record<string, string | null>, id = '7') => ({ id, properties, createdAt: '2023-01-01T00:00:00.000Z', updatedAt: '2023-01-02T00:00:00.000Z' });
  it('a contact: its email first, additional ones after; no name and no email: named by its id; its companies once each', () => {
    expect(mapContact(contact({ email: ' Ann@X.example ', hs_additional_emails: 'ann2@x.example; ;Ann@X.example', firstname: 'Ann', lastname: null, createdate: '2020-02-02T02:02:02.000Z' }), ['1', '2', '1'])).toEqual({
      sourceId: '7',
      role: 'customer',
      name: 'Ann',
      emails: ['Ann@X.example', 'ann2@x.example'],
      tenantSourceIds: ['1', '2'],
      createdAt: new Date('2020-02-02T02:02:02.000Z'),
    });
    expect(mapContact(contact({ email: null, firstname: ' ', lastname: null }), [])).toMatchObject({ name: 'HubSpot contact 7', emails: [], tenantSourceIds: [], createdAt: new Date('2023-01-01T00:00:00.000Z') });
    expect(mapContact(contact({ email: 'x@y.example' }), [])).toMatchObject({ name: null });
  });

  it('a company: its id is the external id; its domain as a bare host; no name: its domain, else its id', () => {
    expect(mapCompany({ id: '42', properties: { name: ' Acme ', domain: 'HTTPS://www.Acme.example:443/about?x' } })).toEqual({ sourceId: '42', externalId: '42', name: 'Acme', domain: 'acme.example' });
    expect(mapCompany({ id: '43', properties: { name: null, domain: null } })).toEqual({ sourceId: '43', externalId: '43', name: 'HubSpot company 43', domain: null });
    expect(companyDomain('sub.example.org.')).toBe('sub.example.org');
  });
});
