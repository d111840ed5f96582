import { describe, expect, it } from 'vitest';
import { cleanSubject, hasForwardPrefix } from './subject.ts';

describe('cleanSubject', () => {
  it.each([
    ['Re: Invoice #1042 is wrong', 'Invoice #1042 is wrong'],
    ['RE: Invoice', 'Invoice'],
    ['re:Invoice', 'Invoice'],
    ['AW: Rechnung', 'Rechnung'],
    ['Aw: Rechnung', 'Rechnung'],
    ['SV: Faktura', 'Faktura'],
    ['Sv: Faktura', 'Faktura'],
    ['Antw: Factuur', 'Factuur'],
    ['Ref: Order 77', 'Order 77'],
    ['R: Fattura', 'Fattura'],
    ['Fwd: Invoice', 'Invoice'],
    ['FWD: Invoice', 'Invoice'],
    ['Fw: Invoice', 'Invoice'],
    ['FW: Invoice', 'Invoice'],
    ['WG: Rechnung', 'Rechnung'],
    ['TR: Facture', 'Facture'],
    ['TR : Facture', 'Facture'],
    ['RV: Factura', 'Factura'],
    ['VS: Faktura', 'Faktura'],
    ['Doorst: Factuur', 'Factuur'],
    ['Doorst.: Factuur', 'Factuur'],
    ['回复：发票有误', '发票有误'],
    ['转发：发票有误', '发票有误'],
    ['答复: 发票有误', '发票有误'],
    ['Re[2]: Invoice', 'Invoice'],
    ['RE(3): Invoice', 'Invoice'],
    ['Re：Invoice', 'Invoice'],
  ])('%s -> %s', (subject, title) => {
    expect(cleanSubject(subject)).toBe(title);
  });

  it('strips chains of mixed prefixes', () => {
    expect(cleanSubject('Re: Fwd: RE: Login fails')).toBe('Login fails');
    expect(cleanSubject('AW: WG: Re[2]: AW: Login fails')).toBe('Login fails');
    expect(cleanSubject('Re: Re: Re: Re: Login fails')).toBe('Login fails');
  });

  it('keeps bracketed tags and strips the prefixes around them', () => {
    expect(cleanSubject('RE: [EXTERNAL] Login fails')).toBe('[EXTERNAL] Login fails');
    expect(cleanSubject('RE: [EXTERNAL] RE: Login fails')).toBe('[EXTERNAL] Login fails');
    expect(cleanSubject('[acme-users] Re: Login fails')).toBe('[acme-users] Login fails');
    expect(cleanSubject('[Ticket #12] Login fails')).toBe('[Ticket #12] Login fails');
  });

  it('leaves prefixes that are not at the start, and words that only look like prefixes', () => {
    expect(cleanSubject('Question about Re: and Fwd: handling')).toBe('Question about Re: and Fwd: handling');
    expect(cleanSubject('Refund: order 42')).toBe('Refund: order 42');
    expect(cleanSubject('Trial expired')).toBe('Trial expired');
    expect(cleanSubject('Regarding my account')).toBe('Regarding my account');
    expect(cleanSubject('VSCode extension: crash')).toBe('VSCode extension: crash');
  });

  it('collapses whitespace, including folded header lines', () => {
    expect(cleanSubject('  Re:   Export\r\n\tfails   on  large files ')).toBe('Export fails on large files');
  });

  it('falls back to (no subject) when nothing is left', () => {
    expect(cleanSubject('')).toBe('(no subject)');
    expect(cleanSubject('   ')).toBe('(no subject)');
    expect(cleanSubject('Re:')).toBe('(no subject)');
    expect(cleanSubject('RE: FW: ')).toBe('(no subject)');
  });
});

describe('hasForwardPrefix', () => {
  it.each([
    'Fwd: Login fails',
    'FW: Login fails',
    'Fw: Login fails',
    'WG: Login fails',
    'TR: Login fails',
    'RV: Login fails',
    'VS: Login fails',
    'Doorst.: Login fails',
    '转发：登录失败',
    'Re: Fwd: Login fails',
    'RE: AW: FW: Login fails',
    'Fwd: Re: Login fails',
    '[EXTERNAL] FW: Login fails',
  ])('is true for %s', (subject) => {
    expect(hasForwardPrefix(subject)).toBe(true);
  });

  it.each([
    'Login fails',
    'Re: Login fails',
    'AW: Re: Login fails',
    'Re: Login fails (Fwd: from Jane)',
    'Forward planning',
    '',
  ])('is false for %s', (subject) => {
    expect(hasForwardPrefix(subject)).toBe(false);
  });
});
