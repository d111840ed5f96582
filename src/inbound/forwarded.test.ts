import { describe, expect, it } from 'vitest';
import { FORWARD_LIMITS, hasForwardMarker, isForwardSubject, parseForwardedText } from './forwarded.ts';

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
  it('reads a Gmail forward', async () => {
    expect(await parseForwardedText(GMAIL)).toEqual({
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
  ])('reads the Gmail sender %s', async (from, address, name) => {
    const text = GMAIL.replace('From: Jane Doe <Jane.Doe@Example.com>', `From: ${from}`);
    expect((await parseForwardedText(text))?.original.from).toEqual({ address, name });
  });

  it('reads Gmail bold header names', async () => {
    const text = GMAIL.replace('From: Jane Doe <Jane.Doe@Example.com>', '*From:* *Jane Doe* <jane@example.com>');
    expect((await parseForwardedText(text))?.original.from).toEqual({ address: 'jane@example.com', name: 'Jane Doe' });
  });

  it('reads an Outlook -----Original Message----- forward with a mailto sender', async () => {
    expect(await parseForwardedText(OUTLOOK_ORIGINAL)).toEqual({
      original: {
        from: { address: 'jane@example.com', name: 'Jane Doe' },
        subject: 'Export to CSV is empty',
        date: 'Monday, June 3, 2024 10:15 AM',
        text: 'Hi Sam,\nevery export downloads an empty file.',
      },
      forwarderText: 'Forwarding to support.',
    });
  });

  it('reads an Outlook forward after an underscore line, keeping the forwarder signature', async () => {
    const parsed = await parseForwardedText(OUTLOOK_UNDERSCORES);
    expect(parsed?.forwarderText).toBe('See below\n\nSam Lee | Account Manager');
    expect(parsed?.original).toMatchObject({ from: { address: 'jane@example.com', name: 'Jane Doe' }, date: 'Monday, June 3, 2024 10:15' });
  });

  it('reads an Outlook header block without a separator line', async () => {
    const text = OUTLOOK_UNDERSCORES.replace('________________________________\n', '');
    expect((await parseForwardedText(text))?.original).toMatchObject({ from: { address: 'jane@example.com' }, subject: 'Export to CSV is empty' });
  });

  it('returns null when the Outlook sender has no address', async () => {
    expect(await parseForwardedText(OUTLOOK_ORIGINAL.replace('From: Jane Doe [mailto:jane@example.com]', 'From: Jane Doe'))).toBeNull();
    expect(await parseForwardedText(OUTLOOK_UNDERSCORES.replace('From: Jane Doe <jane@example.com>', 'From: Jane Doe'))).toBeNull();
  });

  it('reads an Apple Mail forward', async () => {
    expect(await parseForwardedText(APPLE)).toEqual({
      original: {
        from: { address: 'jane@example.com', name: 'Jane Doe' },
        subject: 'Export to CSV is empty',
        date: '3 June 2024 at 10:15:32 BST',
        text: 'Hi Sam,\nevery export downloads an empty file.\n\nSent from my iPhone',
      },
      forwarderText: 'FYI',
    });
  });

  it('reads a Thunderbird forward with tab-aligned headers and no forwarder words', async () => {
    expect(await parseForwardedText(THUNDERBIRD)).toEqual({
      original: {
        from: { address: 'jane@example.com', name: 'Jane Doe' },
        subject: 'Export to CSV is empty',
        date: 'Mon, 3 Jun 2024 10:15:32 +0200',
        text: 'Hi Sam,\nevery export downloads an empty file.',
      },
      forwarderText: null,
    });
  });

  it('reads a German forward', async () => {
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
    expect(await parseForwardedText(text)).toEqual({
      original: {
        from: { address: 'j.mueller@beispiel.de', name: 'Jürgen Müller' },
        subject: 'Export ist leer',
        date: 'Montag, 3. Juni 2024 10:15',
        text: 'Hallo Sam,\njeder Export liefert eine leere Datei.',
      },
      forwarderText: 'Bitte übernehmen.',
    });
    expect((await parseForwardedText(text.replace('Gesendet:', 'Datum:')))?.original.date).toBe('Montag, 3. Juni 2024 10:15');
  });

  it('reads a French forward with spaces before the colons', async () => {
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
    expect(await parseForwardedText(text)).toEqual({
      original: {
        from: { address: 'amelie@exemple.fr', name: 'Amélie Dupont' },
        subject: 'Export vide',
        date: 'lun. 3 juin 2024 à 10:15',
        text: 'Bonjour Sam,\nchaque export donne un fichier vide.',
      },
      forwarderText: null,
    });
    expect((await parseForwardedText(text.replace('Date\u00a0:', 'Envoyé :')))?.original.date).toBe('lun. 3 juin 2024 à 10:15');
  });

  it('reads a Spanish forward', async () => {
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
    expect((await parseForwardedText(text))?.original).toEqual({
      from: { address: 'lucia@ejemplo.es', name: 'Lucía García' },
      subject: 'La exportación está vacía',
      date: 'lun, 3 jun 2024 a las 10:15',
      text: 'Hola Sam:\ntodas las exportaciones salen vacías.',
    });
  });

  it('reads a Dutch forward', async () => {
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
    expect((await parseForwardedText(text))?.original).toEqual({
      from: { address: 'sanne@voorbeeld.nl', name: 'Sanne de Vries' },
      subject: 'Export is leeg',
      date: 'ma 3 jun 2024 om 10:15',
      text: 'Hoi Sam,\nelke export is leeg.',
    });
  });

  it('joins wrapped header lines to the previous value', async () => {
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
    expect((await parseForwardedText(text))?.original).toEqual({
      from: { address: 'jane.doe@example.com', name: 'Doe, Jane (Finance Department)' },
      subject: 'Re: Export to CSV is empty for every report we schedule: weekly and monthly',
      date: 'Monday, June 3, 2024 10:15 AM',
      text: 'Hi Sam',
    });
  });

  it('reads a forward that is itself quoted', async () => {
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
    expect(await parseForwardedText(text)).toEqual({
      original: {
        from: { address: 'jane@example.com', name: 'Jane Doe' },
        subject: 'Export to CSV is empty',
        date: '3 June 2024 at 10:15:32 BST',
        text: 'Hi Sam,\nevery export downloads an empty file.',
      },
      forwarderText: 'Passing this on.',
    });
  });

  it('removes a quote level that covers the whole forwarded body', async () => {
    const text = GMAIL.replace('Hi Sam,\n\nevery export I run since yesterday downloads an empty file.\n\nThanks,\nJane', '> Hi Sam,\n>\n> > earlier mail\n> Jane');
    expect((await parseForwardedText(text))?.original.text).toBe('Hi Sam,\n\n> earlier mail\nJane');
  });

  it('reads CRLF text and takes the first of nested forwards', async () => {
    const nested = `${GMAIL}\n---------- Forwarded message ---------\nFrom: Older <older@example.com>\n\nolder words`;
    expect((await parseForwardedText(nested.replace(/\n/g, '\r\n')))?.original.from.address).toBe('jane.doe@example.com');
  });

  it('ends a header block where another forward marker starts (each block read once, so many markers stay linear)', async () => {
    const text = lines(
      '---------- Forwarded message ---------',
      'Subject: no sender in this block',
      '---------- Forwarded message ---------',
      'From: Jane Doe <jane@example.com>',
      'Subject: Export to CSV is empty',
      '',
      'Hi Sam',
    );
    expect((await parseForwardedText(text))?.original).toEqual({ from: { address: 'jane@example.com', name: 'Jane Doe' }, subject: 'Export to CSV is empty', date: null, text: 'Hi Sam' });
    // Hostile: marker and header lines alternating, 512 Ki characters (an entry's whole text).
    const hostile = '---------- Forwarded message ---------\nSubject: a\n'.repeat(10_500);
    expect(await parseForwardedText(hostile)).toBeNull();
  });

  it('returns null when there is no forward', async () => {
    expect(await parseForwardedText('Hi,\n\nthe export is empty.\n\nFrom: the billing page\n\nJane')).toBeNull();
    expect(await parseForwardedText('Thanks!\n\n-- \nJane\n________________________________\nExample Corp, 1 Main St')).toBeNull();
    expect(await parseForwardedText('')).toBeNull();
  });
});

describe('parseForwardedText in other languages, layouts and as HTML-to-text writes them', () => {
  it("reads the issue's Czech Gmail forward, whose only translated label is Od:", async () => {
    const text = lines(
      'Prosím o kontrolu.',
      '',
      '---------- Forwarded message ---------',
      'Od: John Doe <john.doe@acme.com>',
      'Date: po 3. 6. 2024 v 10:15',
      'Subject: Export je prázdný',
      'To: <sam@acme.com>',
      '',
      '',
      'Dobrý den, každý export je prázdný.',
    );
    expect(await parseForwardedText(text, { subjectSaysForward: true })).toEqual({
      original: { from: { address: 'john.doe@acme.com', name: 'John Doe' }, subject: 'Export je prázdný', date: 'po 3. 6. 2024 v 10:15', text: 'Dobrý den, každý export je prázdný.' },
      forwarderText: 'Prosím o kontrolu.',
    });
  });

  it.each([
    ['Outlook (Czech)', ['Od: Jan Novák <jan@firma.cz>', 'Odesláno: pondělí 3. června 2024 10:15', 'Komu: Sam <sam@acme.com>', 'Předmět: Export'], 'pondělí 3. června 2024 10:15'],
    ['Outlook (Turkish)', ['Kimden: Mehmet Yılmaz <jan@firma.cz>', 'Gönderildi: 3 Haziran 2024 Pazartesi 10:15', 'Kime: Sam <sam@acme.com>', 'Konu: Export'], '3 Haziran 2024 Pazartesi 10:15'],
    ['Outlook (Chinese)', ['发件人: 张伟 <jan@firma.cz>', '发送时间: 2024年6月3日 星期一 10:15', '收件人: Sam <sam@acme.com>', '主题: Export'], '2024年6月3日 星期一 10:15'],
    ['new Outlook (Japanese)', ['差出人: 山田 太郎 <jan@firma.cz>', '日付: 2024年6月3日 月曜日 10:15', '宛先: Sam <sam@acme.com>', '件名: Export'], '2024年6月3日 月曜日 10:15'],
    ['Thunderbird (Chinese)', ['-------- 转发的消息 --------', '主题: \tExport', '日期: \tMon, 3 Jun 2024 10:15:32 +0200', '发件人: \t张伟 <jan@firma.cz>'], 'Mon, 3 Jun 2024 10:15:32 +0200'],
    ['Apple Mail (Japanese)', ['転送されたメッセージ:', '', '差出人: 山田 太郎 <jan@firma.cz>', '件名: Export', '日付: 2024年6月3日 10:15', '宛先: Sam <sam@acme.com>'], '2024年6月3日 10:15'],
    ['HubSpot (Japanese, full-width colons)', ['---------- 転送メッセージ ---------', '差出人：山田 太郎 <jan@firma.cz>', '日付：2024年6月3日', '件名：Export'], '2024年6月3日'],
  ])('reads %s, whose labels the library lacks', async (_client, header, date) => {
    const parsed = await parseForwardedText(lines('FYI', '', ...header, '', 'The words.'), { subjectSaysForward: true });
    expect(parsed).toMatchObject({ original: { from: { address: 'jan@firma.cz' }, subject: 'Export', date, text: 'The words.' }, forwarderText: 'FYI' });
  });

  it('reads a forward whose sender and date are only in the separator line (Outlook 2019: On ..., "Jane" <jane@x> wrote:)', async () => {
    const text = lines('Can you help her?', '', 'On Mon, Jun 3, 2024 at 10:15 AM, "Jane Doe" <jane@example.com> wrote:', '', 'Hi Sam,', 'the export is empty.');
    expect(await parseForwardedText(text, { subjectSaysForward: true })).toEqual({
      original: { from: { address: 'jane@example.com', name: 'Jane Doe' }, subject: null, date: 'Mon, Jun 3, 2024 at 10:15 AM', text: 'Hi Sam,\nthe export is empty.' },
      forwarderText: 'Can you help her?',
    });
  });

  it('reads a forward quoted with > in a language the library knows, up to where the quote ends', async () => {
    const text = lines(
      'Bitte übernehmen.',
      '',
      '> -----Ursprüngliche Nachricht-----',
      '> Von: Jürgen Müller <j.mueller@beispiel.de>',
      '> Gesendet: Montag, 3. Juni 2024 10:15',
      '> An: Sam <sam@acme.com>',
      '> Betreff: Export ist leer',
      '>',
      '> Hallo Sam,',
      '> der Export ist leer.',
      '',
      'Sam',
    );
    expect(await parseForwardedText(text, { subjectSaysForward: true })).toEqual({
      original: { from: { address: 'j.mueller@beispiel.de', name: 'Jürgen Müller' }, subject: 'Export ist leer', date: 'Montag, 3. Juni 2024 10:15', text: 'Hallo Sam,\nder Export ist leer.' },
      forwarderText: 'Bitte übernehmen.',
    });
  });

  it('reads HTML-to-text output: link echoes undone, bold labels, table rows run together split again', async () => {
    // Thunderbird's header table and Gmail's mailto links, as html-to-text writes them.
    const thunderbird = lines(
      'Please check',
      '',
      '-------- Weitergeleitete Nachricht --------',
      '',
      'Betreff: Export ist leerDatum: Mon, 3 Jun 2024 10:15:32 +0200Von: Jürgen Müller <j.mueller@beispiel.de> [j.mueller@beispiel.de]An: Sam <sam@acme.com> [sam@acme.com]',
      '',
      '',
      'Hallo Sam',
    );
    expect(await parseForwardedText(thunderbird, { subjectSaysForward: true })).toEqual({
      original: { from: { address: 'j.mueller@beispiel.de', name: 'Jürgen Müller' }, subject: 'Export ist leer', date: 'Mon, 3 Jun 2024 10:15:32 +0200', text: 'Hallo Sam' },
      forwarderText: 'Please check',
    });
    const gmail = lines('---------- Forwarded message ---------', '*Von:* *Jürgen Müller* <j.mueller@beispiel.de [j.mueller@beispiel.de]>', '*Date:* Mon', '*Subject:* Export', '', 'Hallo');
    expect((await parseForwardedText(gmail))?.original).toEqual({ from: { address: 'j.mueller@beispiel.de', name: 'Jürgen Müller' }, subject: 'Export', date: 'Mon', text: 'Hallo' });
  });

  it(`falls back to its own linear rules when the library runs past its budget (default ${FORWARD_LIMITS.budgetMs} ms)`, async () => {
    // Lines on which the library's Outlook 2019 (Hungarian) pattern backtracks for seconds.
    const hostile = ' időpontban x <y> '.repeat(56).slice(0, 998);
    const text = lines('---------- Forwarded message ---------', 'From: Jane Doe <jane@example.com>', 'Subject: Export', '', 'Hi Sam', ...Array<string>(40).fill(hostile));
    const parsed = await parseForwardedText(text, { subjectSaysForward: true });
    expect(parsed?.original).toMatchObject({ from: { address: 'jane@example.com', name: 'Jane Doe' }, subject: 'Export' });
    expect(parsed?.original.text.startsWith('Hi Sam\n')).toBe(true);
  });

  it('without a forward subject, a header block needs a separator line (or Outlook From + Sent)', async () => {
    const text = lines('See below', '', 'Von: Jürgen <j@beispiel.de>', 'An: Sam <sam@acme.com>', 'Betreff: Export', '', 'Hallo');
    expect(await parseForwardedText(text)).toBeNull();
    expect((await parseForwardedText(text, { subjectSaysForward: true }))?.original.from.address).toBe('j@beispiel.de');
  });
});

describe('isForwardSubject', () => {
  it.each(['Fwd: x', 'FW: x', 'WG: x', 'TR: x', 'RV: x', 'I: x', 'PD: x', 'ENC: x', 'VB: x', 'VL: x', 'VS: x', 'İLT: x', 'Redir.: x'])('knows %s', (subject) => {
    expect(isForwardSubject(subject)).toBe(true);
  });
  it.each(['Re: x', 'AW: x', 'Export failed', 'Invoice: March'])('not %s', (subject) => {
    expect(isForwardSubject(subject)).toBe(false);
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
