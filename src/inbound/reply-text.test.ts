import { describe, expect, it } from 'vitest';
import { replyText } from './reply-text.ts';

describe('replyText', () => {
  it('returns null for no text, blank text, and text that is all history', () => {
    expect(replyText(null)).toBeNull();
    expect(replyText('  \n\n ')).toBeNull();
    expect(replyText('> Hi Jane,\n> did that help?\n')).toBeNull();
  });

  it('keeps a message without history as it is, trimmed', () => {
    expect(replyText('\nHi,\n\nthe CSV export is empty since this morning.\n\nJane\n')).toBe(
      'Hi,\n\nthe CSV export is empty since this morning.\n\nJane',
    );
  });

  it('cuts Gmail history', () => {
    const text = [
      'Thanks, that fixed it!',
      '',
      'On Mon, Jun 3, 2024 at 10:15 AM Acme Support <support@acme.com> wrote:',
      '',
      '> Hi Jane,',
      '>',
      '> Please clear your cache and try again.',
      '>',
    ].join('\r\n');
    expect(replyText(text)).toBe('Thanks, that fixed it!');
  });

  it('cuts a Gmail attribution wrapped over two lines, even without a blank line before it', () => {
    const text = [
      'Still broken, sorry.',
      'On Mon, 3 Jun 2024 at 10:15, Acme Support Team <support@acme.example.com>',
      'wrote:',
      'Hi Jane,',
      'Please clear your cache and try again.',
    ].join('\n');
    expect(replyText(text)).toBe('Still broken, sorry.');
  });

  it('cuts Outlook -----Original Message-----', () => {
    const text = [
      'Yes, please go ahead with the refund.',
      '-----Original Message-----',
      'From: Acme Support <support@acme.com>',
      'Sent: Monday, June 3, 2024 10:15 AM',
      'To: Jane Doe <jane@example.com>',
      'Subject: RE: Invoice #1042',
      '',
      'Hi Jane, shall we refund the difference?',
    ].join('\n');
    expect(replyText(text)).toBe('Yes, please go ahead with the refund.');
  });

  it('cuts an Outlook header block after an underscore line', () => {
    const text = [
      'Yes please.',
      '',
      'Jane',
      '________________________________',
      'From: Acme Support <support@acme.com>',
      'Sent: Monday, June 3, 2024 10:15',
      'To: Jane Doe <jane@example.com>',
      'Subject: Invoice',
      '',
      'Hi Jane,',
    ].join('\n');
    expect(replyText(text)).toBe('Yes please.\n\nJane');
  });

  it('cuts an Outlook header block that has no separator and no address', () => {
    const text = [
      'Yes please.',
      '',
      'From: Acme Support',
      'Sent: Monday, June 3, 2024 10:15',
      'To: Jane Doe',
      'Subject: Invoice',
      '',
      'Hi Jane,',
    ].join('\n');
    expect(replyText(text)).toBe('Yes please.');
  });

  it('cuts a localised Outlook header block with bold keys', () => {
    const text = ['Merci.', '', '*De :* Acme Support <support@acme.com>', '*Envoyé :* lundi 3 juin 2024 10:15', '*Objet :* Facture'].join('\n');
    expect(replyText(text)).toBe('Merci.');
  });

  it('cuts Apple Mail history, quoted or not', () => {
    expect(replyText('Works now.\n\n> On 3 Jun 2024, at 10:15, Acme Support <support@acme.com> wrote:\n> \n> Hi Jane')).toBe('Works now.');
    expect(replyText('Works now.\nOn Jun 3, 2024, at 10:15 AM, Acme Support wrote:\nHi Jane')).toBe('Works now.');
  });

  it.each([
    ['German', 'Danke!', 'Am Mo., 3. Juni 2024 um 10:15 Uhr schrieb Acme Support <support@acme.com>:', 'Hallo Jane,'],
    ['German without address', 'Danke!', 'Am 03.06.2024 um 10:15 schrieb Acme Support:', 'Hallo Jane,'],
    ['French', 'Merci beaucoup.', 'Le lun. 3 juin 2024 à 10:15, Acme Support <support@acme.com> a écrit\u00a0:', 'Bonjour Jane,'],
    ['Spanish', 'Gracias.', 'El lun, 3 jun 2024 a las 10:15, Acme Support (<support@acme.com>) escribió:', 'Hola Jane:'],
    ['Dutch', 'Dank je.', 'Op ma 3 jun. 2024 om 10:15 schreef Acme Support <support@acme.com>:', 'Hallo Jane,'],
  ])('cuts %s history', (_language, reply, attribution, greeting) => {
    expect(replyText(`${reply}\n${attribution}\n${greeting}\nTicket #1042`)).toBe(reply);
    expect(replyText(`${reply}\n\n${attribution}\n> ${greeting}\n> 1, 2, 3`)).toBe(reply);
  });

  it('cuts a wrapped Dutch attribution without gluing it to the reply', () => {
    const text = 'Dank je.\nOp ma 3 jun. 2024 om 10:15 schreef Acme Support <\nsupport@acme.com>:\n\nHallo';
    expect(replyText(text)).toBe('Dank je.');
  });

  it('drops quoted lines but keeps answers written between them', () => {
    const text = 'See my answers below.\n> Which browser?\nFirefox\n> Which version?\n126';
    expect(replyText(text)).toBe('See my answers below.\nFirefox\n126');
  });

  it('drops the signature block after a delimiter', () => {
    expect(replyText('The export is empty.\n\n-- \nJane Doe | Example Corp\n+1 555 0100')).toBe('The export is empty.');
    expect(replyText('The export is empty.\n\nSent from my iPhone')).toBe('The export is empty.');
  });

  it('keeps prose that only resembles an attribution', () => {
    const text = 'On second thought, my colleague wrote:\nthe export works when filtered.';
    expect(replyText(text)).toBe(text);
  });

  it('stays fast on huge lines that would stall email-reply-parser', () => {
    const hostile = `On ${'1 '.repeat(100_000)}`;
    const started = performance.now();
    expect(replyText(hostile)).toBe(hostile.trim());
    expect(replyText(`Fine.\n${hostile}\nOn Mon, Jun 3, 2024 at 10:15 AM Sam <sam@acme.com> wrote:\n> Hi`)).toBe(`Fine.\n${hostile.trim()}`);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
