import { describe, expect, it } from 'vitest';
import { hasForwardMarker, parseForwardedText } from './forwarded.ts';

const lines = (...text: string[]) => text.join('\n');

const GMAIL = lines(
  'Hi team, can someone look at this? She is on the Pro plan.',
  '',
  '---------- Forwarded message ---------',
  'From: Jane Doe <Jane.Doe@Example.com>',
  'Date: Mon, Jun 3, 2024 at 10:15 AM',
  'Subject: Export to CSV is empty',
  'To: <sam@acme.com>',
  'Cc: Bob <bob@example.com>',
  '',
  '',
  'Hi Sam,',
  '',
  'every export I run since yesterday downloads an empty file.',
  '',
  'Thanks,',
  'Jane',
  '',
);

const OUTLOOK_ORIGINAL = lines(
  'Forwarding to support.',
  '',
  '-----Original Message-----',
  'From: Jane Doe [mailto:jane@example.com]',
  'Sent: Monday, June 3, 2024 10:15 AM',
  'To: Sam Lee <sam@acme.com>',
  'Subject: Export to CSV is empty',
  '',
  'Hi Sam,',
  'every export downloads an empty file.',
);

const OUTLOOK_UNDERSCORES = lines(
  'See below',
  '',
  'Sam Lee | Account Manager',
  '',
  '________________________________',
  'From: Jane Doe <jane@example.com>',
  'Sent: Monday, June 3, 2024 10:15',
  'To: Sam Lee <sam@acme.com>',
  'Subject: Export to CSV is empty',
  '',
  'Hi Sam,',
  'every export downloads an empty file.',
);

const APPLE = lines(
  'FYI',
  '',
  'Begin forwarded message:',
  '',
  'From: Jane Doe <jane@example.com>',
  'Subject: Export to CSV is empty',
  'Date: 3 June 2024 at 10:15:32 BST',
  'To: Sam Lee <sam@acme.com>',
  '',
  'Hi Sam,',
  'every export downloads an empty file.',
  '',
  'Sent from my iPhone',
);

const THUNDERBIRD = lines(
  '',
  '',
  '',
  '-------- Forwarded Message --------',
  'Subject: \tExport to CSV is empty',
  'Date: \tMon, 3 Jun 2024 10:15:32 +0200',
  'From: \tJane Doe <jane@example.com>',
  'To: \tsam@acme.com',
  '',
  '',
  'Hi Sam,',
  'every export downloads an empty file.',
);

describe('parseForwardedText', () => {
  it('reads a Gmail forward', () => {
    expect(parseForwardedText(GMAIL)).toEqual({
      original: {
        from: { address: 'jane.doe@example.com', name: 'Jane Doe' },
        subject: 'Export to CSV is empty',
        date: 'Mon, Jun 3, 2024 at 10:15 AM',
        text: 'Hi Sam,\n\nevery export I run since yesterday downloads an empty file.\n\nThanks,\nJane',
      },
      forwarderText: 'Hi team, can someone look at this? She is on the Pro plan.',
    });
  });

  it.each([
    ['Jane Doe <jane@example.com>', 'jane@example.com', 'Jane Doe'],
    ['<jane@example.com>', 'jane@example.com', null],
    ['jane@example.com', 'jane@example.com', null],
    ['"Doe, Jane" <jane@example.com>', 'jane@example.com', 'Doe, Jane'],
    ['*Jane Doe* <jane@example.com>', 'jane@example.com', 'Jane Doe'],
    ['Jane Doe <jane@example.com<mailto:jane@example.com>>', 'jane@example.com', 'Jane Doe'],
    ['"jane@example.com" <jane@example.com>', 'jane@example.com', null],
    ['Jürgen <jurgen@xn--mnchen-3ya.de>', 'jurgen@münchen.de', 'Jürgen'],
  ])('reads the Gmail sender %s', (from, address, name) => {
    const text = GMAIL.replace('From: Jane Doe <Jane.Doe@Example.com>', `From: ${from}`);
    expect(parseForwardedText(text)?.original.from).toEqual({ address, name });
  });

  it('reads Gmail bold header names', () => {
    const text = GMAIL.replace('From: Jane Doe <Jane.Doe@Example.com>', '*From:* *Jane Doe* <jane@example.com>');
    expect(parseForwardedText(text)?.original.from).toEqual({ address: 'jane@example.com', name: 'Jane Doe' });
  });

  it('reads an Outlook -----Original Message----- forward with a mailto sender', () => {
    expect(parseForwardedText(OUTLOOK_ORIGINAL)).toEqual({
      original: {
        from: { address: 'jane@example.com', name: 'Jane Doe' },
        subject: 'Export to CSV is empty',
        date: 'Monday, June 3, 2024 10:15 AM',
        text: 'Hi Sam,\nevery export downloads an empty file.',
      },
      forwarderText: 'Forwarding to support.',
    });
  });

  it('reads an Outlook forward after an underscore line, keeping the forwarder signature', () => {
    const parsed = parseForwardedText(OUTLOOK_UNDERSCORES);
    expect(parsed?.forwarderText).toBe('See below\n\nSam Lee | Account Manager');
    expect(parsed?.original).toMatchObject({ from: { address: 'jane@example.com', name: 'Jane Doe' }, date: 'Monday, June 3, 2024 10:15' });
  });

  it('reads an Outlook header block without a separator line', () => {
    const text = OUTLOOK_UNDERSCORES.replace('________________________________\n', '');
    expect(parseForwardedText(text)?.original).toMatchObject({ from: { address: 'jane@example.com' }, subject: 'Export to CSV is empty' });
  });

  it('returns null when the Outlook sender has no address', () => {
    expect(parseForwardedText(OUTLOOK_ORIGINAL.replace('From: Jane Doe [mailto:jane@example.com]', 'From: Jane Doe'))).toBeNull();
    expect(parseForwardedText(OUTLOOK_UNDERSCORES.replace('From: Jane Doe <jane@example.com>', 'From: Jane Doe'))).toBeNull();
  });

  it('reads an Apple Mail forward', () => {
    expect(parseForwardedText(APPLE)).toEqual({
      original: {
        from: { address: 'jane@example.com', name: 'Jane Doe' },
        subject: 'Export to CSV is empty',
        date: '3 June 2024 at 10:15:32 BST',
        text: 'Hi Sam,\nevery export downloads an empty file.\n\nSent from my iPhone',
      },
      forwarderText: 'FYI',
    });
  });

  it('reads a Thunderbird forward with tab-aligned headers and no forwarder words', () => {
    expect(parseForwardedText(THUNDERBIRD)).toEqual({
      original: {
        from: { address: 'jane@example.com', name: 'Jane Doe' },
        subject: 'Export to CSV is empty',
        date: 'Mon, 3 Jun 2024 10:15:32 +0200',
        text: 'Hi Sam,\nevery export downloads an empty file.',
      },
      forwarderText: null,
    });
  });

  it('reads a German forward', () => {
    const text = lines(
      'Bitte übernehmen.',
      '',
      '---------- Weitergeleitete Nachricht ----------',
      'Von: Jürgen Müller <j.mueller@beispiel.de>',
      'Gesendet: Montag, 3. Juni 2024 10:15',
      'An: Sam Lee <sam@acme.com>',
      'Betreff: Export ist leer',
      '',
      'Hallo Sam,',
      'jeder Export liefert eine leere Datei.',
    );
    expect(parseForwardedText(text)).toEqual({
      original: {
        from: { address: 'j.mueller@beispiel.de', name: 'Jürgen Müller' },
        subject: 'Export ist leer',
        date: 'Montag, 3. Juni 2024 10:15',
        text: 'Hallo Sam,\njeder Export liefert eine leere Datei.',
      },
      forwarderText: 'Bitte übernehmen.',
    });
    expect(parseForwardedText(text.replace('Gesendet:', 'Datum:'))?.original.date).toBe('Montag, 3. Juni 2024 10:15');
  });

  it('reads a French forward with spaces before the colons', () => {
    const text = lines(
      '---------- Message transféré ---------',
      'De\u00a0: Amélie Dupont <amelie@exemple.fr>',
      'Date\u00a0: lun. 3 juin 2024 à 10:15',
      'Objet\u00a0: Export vide',
      'À\u00a0: <sam@acme.com>',
      '',
      'Bonjour Sam,',
      'chaque export donne un fichier vide.',
    );
    expect(parseForwardedText(text)).toEqual({
      original: {
        from: { address: 'amelie@exemple.fr', name: 'Amélie Dupont' },
        subject: 'Export vide',
        date: 'lun. 3 juin 2024 à 10:15',
        text: 'Bonjour Sam,\nchaque export donne un fichier vide.',
      },
      forwarderText: null,
    });
    expect(parseForwardedText(text.replace('Date\u00a0:', 'Envoyé :'))?.original.date).toBe('lun. 3 juin 2024 à 10:15');
  });

  it('reads a Spanish forward', () => {
    const text = lines(
      'Reenvío el correo de la clienta.',
      '',
      '---------- Mensaje reenviado ---------',
      'De: Lucía García <lucia@ejemplo.es>',
      'Fecha: lun, 3 jun 2024 a las 10:15',
      'Asunto: La exportación está vacía',
      'Para: <sam@acme.com>',
      '',
      'Hola Sam:',
      'todas las exportaciones salen vacías.',
    );
    expect(parseForwardedText(text)?.original).toEqual({
      from: { address: 'lucia@ejemplo.es', name: 'Lucía García' },
      subject: 'La exportación está vacía',
      date: 'lun, 3 jun 2024 a las 10:15',
      text: 'Hola Sam:\ntodas las exportaciones salen vacías.',
    });
  });

  it('reads a Dutch forward', () => {
    const text = lines(
      '---------- Doorgestuurd bericht ---------',
      'Van: Sanne de Vries <sanne@voorbeeld.nl>',
      'Datum: ma 3 jun 2024 om 10:15',
      'Onderwerp: Export is leeg',
      'Aan: <sam@acme.com>',
      '',
      'Hoi Sam,',
      'elke export is leeg.',
    );
    expect(parseForwardedText(text)?.original).toEqual({
      from: { address: 'sanne@voorbeeld.nl', name: 'Sanne de Vries' },
      subject: 'Export is leeg',
      date: 'ma 3 jun 2024 om 10:15',
      text: 'Hoi Sam,\nelke export is leeg.',
    });
  });

  it('joins wrapped header lines to the previous value', () => {
    const text = lines(
      '-----Original Message-----',
      'From: "Doe, Jane (Finance Department)"',
      '   <jane.doe@example.com>',
      'Sent: Monday, June 3, 2024 10:15 AM',
      'To: Sam Lee <sam@acme.com>; Support <support@acme.com>;',
      '    Bob <bob@example.com>',
      'Subject: Re: Export to CSV is empty for every report we',
      ' schedule: weekly and monthly',
      '',
      'Hi Sam',
    );
    expect(parseForwardedText(text)?.original).toEqual({
      from: { address: 'jane.doe@example.com', name: 'Doe, Jane (Finance Department)' },
      subject: 'Re: Export to CSV is empty for every report we schedule: weekly and monthly',
      date: 'Monday, June 3, 2024 10:15 AM',
      text: 'Hi Sam',
    });
  });

  it('reads a forward that is itself quoted', () => {
    const text = lines(
      'Passing this on.',
      '',
      '> Begin forwarded message:',
      '>',
      '> From: Jane Doe <jane@example.com>',
      '> Subject: Export to CSV is empty',
      '> Date: 3 June 2024 at 10:15:32 BST',
      '> To: Sam Lee <sam@acme.com>',
      '>',
      '> Hi Sam,',
      '> every export downloads an empty file.',
      '',
      'Sam',
    );
    expect(parseForwardedText(text)).toEqual({
      original: {
        from: { address: 'jane@example.com', name: 'Jane Doe' },
        subject: 'Export to CSV is empty',
        date: '3 June 2024 at 10:15:32 BST',
        text: 'Hi Sam,\nevery export downloads an empty file.',
      },
      forwarderText: 'Passing this on.',
    });
  });

  it('removes a quote level that covers the whole forwarded body', () => {
    const text = GMAIL.replace('Hi Sam,\n\nevery export I run since yesterday downloads an empty file.\n\nThanks,\nJane', '> Hi Sam,\n>\n> > earlier mail\n> Jane');
    expect(parseForwardedText(text)?.original.text).toBe('Hi Sam,\n\n> earlier mail\nJane');
  });

  it('reads CRLF text and takes the first of nested forwards', () => {
    const nested = `${GMAIL}\n---------- Forwarded message ---------\nFrom: Older <older@example.com>\n\nolder words`;
    expect(parseForwardedText(nested.replace(/\n/g, '\r\n'))?.original.from.address).toBe('jane.doe@example.com');
  });

  it('ends a header block where another forward marker starts (each block read once, so many markers stay linear)', () => {
    const text = lines(
      '---------- Forwarded message ---------',
      'Subject: no sender in this block',
      '---------- Forwarded message ---------',
      'From: Jane Doe <jane@example.com>',
      'Subject: Export to CSV is empty',
      '',
      'Hi Sam',
    );
    expect(parseForwardedText(text)?.original).toEqual({ from: { address: 'jane@example.com', name: 'Jane Doe' }, subject: 'Export to CSV is empty', date: null, text: 'Hi Sam' });
    // Hostile: marker and header lines alternating, 512 Ki characters (an entry's whole text).
    const hostile = '---------- Forwarded message ---------\nSubject: a\n'.repeat(10_500);
    expect(parseForwardedText(hostile)).toBeNull();
  });

  it('returns null when there is no forward', () => {
    expect(parseForwardedText('Hi,\n\nthe export is empty.\n\nFrom: the billing page\n\nJane')).toBeNull();
    expect(parseForwardedText('Thanks!\n\n-- \nJane\n________________________________\nExample Corp, 1 Main St')).toBeNull();
    expect(parseForwardedText('')).toBeNull();
  });
});

describe('hasForwardMarker', () => {
  it.each([
    ['Gmail', GMAIL],
    ['Outlook original message', OUTLOOK_ORIGINAL],
    ['Outlook underscores', OUTLOOK_UNDERSCORES],
    ['Apple Mail', APPLE],
    ['Thunderbird', THUNDERBIRD],
    ['German', '---------- Weitergeleitete Nachricht ----------\nVon: a@b.de'],
    ['French', '---------- Message transféré ---------\nDe : a@b.fr'],
    ['Spanish', '---------- Mensaje reenviado ---------\nDe: a@b.es'],
    ['Dutch', '---------- Doorgestuurd bericht ---------\nVan: a@b.nl'],
    ['quoted', '> > ---------- Forwarded message ---------'],
    ['indented', '   Begin forwarded message:'],
  ])('finds the %s marker', (_client, text) => {
    expect(hasForwardMarker(text)).toBe(true);
  });

  it.each([
    ['plain text', 'Hi,\nthe export is empty.\nJane'],
    ['a reply', 'Thanks!\n\nOn Mon, Jun 3, 2024 at 10:15 AM Sam <sam@acme.com> wrote:\n> Hi'],
    ['an underscore rule', 'Jane\n________________________________\nExample Corp'],
    ['marker words in prose', 'I forwarded message after message to you.'],
  ])('finds none in %s', (_case, text) => {
    expect(hasForwardMarker(text)).toBe(false);
  });
});
