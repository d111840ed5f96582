import { LANGUAGES, type Labels, type Language, type LanguageCode } from './forward-languages.ts';

/**
 * Agent forwards as each mail client writes them, in each language: the inputs of the forward
 * recovery corpus (test/inbound-corpus.test.ts). Each client is a header layout (which separator,
 * which labels in which order, how the sender is written, what the HTML looks like); each
 * language is a set of labels (forward-languages.ts). Variants:
 * - `text`: the client's text/plain and text/html alternatives (the text is read);
 * - `html`: the HTML alone, as some clients and settings send it;
 * - `quoted`: plain text with the forwarded block quoted (`> From:`), as plain-text clients do;
 * - `bold`: plain text with bold labels (`*From:*`), as converters write bold HTML labels.
 */

export const CLIENTS = Object.freeze([
  'apple-mail', 'gmail', 'outlook-2013', 'outlook-2019', 'new-outlook', 'outlook-web',
  'thunderbird', 'yahoo', 'hubspot', 'missive', 'mailmate', 'ionos',
] as const);
export type ClientId = (typeof CLIENTS)[number];

export const VARIANTS = Object.freeze(['text', 'html', 'quoted', 'bold'] as const);
export type Variant = (typeof VARIANTS)[number];

export const AGENT = Object.freeze({ name: 'Sam Lee', address: 'sam.lee@acme.com' });
/** The agent's own words above the forward; they belong in a note, never in the customer's entry. */
export const AGENT_NOTE = 'Could you take this one? The customer also called the sales line this morning.';
const AGENT_SIGNATURE = ['Sam Lee', 'Acme Support'];

export type ForwardCase = {
  id: string;
  client: ClientId;
  language: LanguageCode;
  variant: Variant;
  /** The agent's email. */
  subject: string;
  text: string | null;
  html: string | null;
  /** What the pipeline must recover from the forwarded block. */
  expected: { address: string; name: string; subject: string; date: string; words: string };
};

type Person = { name: string; address: string };
type Original = { from: Person; to: Person; subject: string; date: string; body: string[] };
type Header = { field: keyof Labels; label: string; value: string; html: string };

/** A client's forward block, from which its text and HTML are both written. */
type Block = {
  prefix: string;
  /** Lines above the header lines. */
  separator: string[];
  headers: Header[];
  /** Thunderbird aligns values with a tab; IONOS ends lines with a no-break space. */
  joiner?: string;
  lineEnd?: string;
  /** Yahoo's text alternative runs the header lines together. */
  stuck?: boolean;
  /** MailMate quotes the headers and the body; Missive the body. */
  quoteHeaders?: boolean;
  quoteBody?: boolean;
  /** Blank lines between the header lines and the body. */
  gap: number;
  html: (note: string, o: Original) => string;
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const angle = (p: Person) => `${p.name} <${p.address}>`;
const angleHtml = (p: Person) => `${esc(p.name)} &lt;${esc(p.address)}&gt;`;
const mailtoHtml = (p: Person) => `${esc(p.name)} &lt;<a href="mailto:${esc(p.address)}">${esc(p.address)}</a>&gt;`;
const paragraphs = (lines: string[], tag = 'div') => lines.map((line) => (line === '' ? `<${tag}><br></${tag}>` : `<${tag}>${esc(line).replace(/\n/g, '<br>')}</${tag}>`)).join('');

/** From, date, to, subject in the order the client writes them. */
function headers(labels: Labels, o: Original, order: Array<keyof Labels>, from: { text: string; html: string } = { text: angle(o.from), html: angleHtml(o.from) }): Header[] {
  const values: Record<keyof Labels, { value: string; html: string }> = {
    from: { value: from.text, html: from.html },
    date: { value: o.date, html: esc(o.date) },
    to: { value: angle(o.to), html: angleHtml(o.to) },
    subject: { value: o.subject, html: esc(o.subject) },
  };
  return order.map((field) => ({ field, label: labels[field], ...values[field] }));
}

const ENGLISH = LANGUAGES.find((lang) => lang.code === 'en')!;
const RFC_DATE = 'Mon, 3 Jun 2024 10:15:32 +0200';

function block(client: ClientId, lang: Language, o: Original): Block {
  switch (client) {
    case 'apple-mail': {
      const hs = headers(lang.apple, o, ['from', 'subject', 'date', 'to'], { text: angle(o.from), html: mailtoHtml(o.from) });
      return {
        prefix: 'Fwd:', separator: [lang.apple.separator, ''], headers: hs, gap: 1,
        html: (note, orig) =>
          `<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">${esc(note)}<br id="lineBreakAtBeginningOfMessage"><div><br><blockquote type="cite"><div>${esc(lang.apple.separator)}</div><br class="Apple-interchange-newline">` +
          hs.map((h) => `<div style="margin: 0px;"><span style="font-family: -webkit-system-font, Helvetica Neue, Helvetica, sans-serif; color:rgba(0, 0, 0, 1.0);"><b>${esc(h.label)}</b></span><span style="font-family: -webkit-system-font, Helvetica Neue, Helvetica, sans-serif;"> ${h.html}<br></span></div>`).join('') +
          `<br><div><div>${paragraphs(orig.body)}</div></div></blockquote></div><br></body></html>`,
      };
    }
    case 'gmail': {
      // Gmail translates the sender label only; the rest of its header stays English.
      const labels = { ...ENGLISH.apple, from: lang.gmailFrom };
      const hs = headers(labels, o, ['from', 'date', 'subject', 'to'], {
        text: angle(o.from),
        html: `<strong class="gmail_sendername" dir="auto">${esc(o.from.name)}</strong> <span dir="auto">&lt;<a href="mailto:${esc(o.from.address)}">${esc(o.from.address)}</a>&gt;</span>`,
      });
      return {
        prefix: 'Fwd:', separator: ['---------- Forwarded message ---------'], headers: hs, gap: 2,
        html: (note, orig) =>
          `<div dir="ltr">${esc(note)}<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>` +
          hs.map((h) => `${esc(h.label)} ${h.html}<br>`).join('') +
          `</div><br><br><div dir="ltr">${paragraphs(orig.body)}</div></div></div>`,
      };
    }
    case 'outlook-2013':
    case 'outlook-2019':
    case 'outlook-web': {
      // Outlook 2013 and earlier write the sender as `Name [mailto:address]`.
      const from =
        client === 'outlook-2013'
          ? { text: `${o.from.name} [mailto:${o.from.address}] `, html: `${esc(o.from.name)} [mailto:${esc(o.from.address)}] ` }
          : { text: `${angle(o.from)} `, html: `${angleHtml(o.from)} ` };
      const hs = headers(lang.outlook, o, ['from', 'date', 'to', 'subject'], from);
      const separator = client === 'outlook-2013' ? [lang.outlook.original] : client === 'outlook-web' ? ['_'.repeat(32)] : [];
      const html =
        client === 'outlook-web'
          ? (note: string, orig: Original) =>
              `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body dir="ltr"><div class="elementToProof" style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt;">${esc(note)}</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">` +
              hs.map((h) => `<b>${esc(h.label)}</b> ${h.html}`).join('<br>') +
              `</font><div>&nbsp;</div></div><div dir="ltr">${paragraphs(orig.body)}</div></body></html>`
          : (note: string, orig: Original) =>
              `<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv=Content-Type content="text/html; charset=utf-8"><style><!-- p.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;} --></style></head><body lang=EN-US link="#0563C1" vlink="#954F72"><div class=WordSection1><p class=MsoNormal>${esc(note)}<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal>` +
              hs.map((h) => `<b>${esc(h.label)}</b> ${h.html}`).join('<br>') +
              `<o:p></o:p></p></div></div><p class=MsoNormal><o:p>&nbsp;</o:p></p>${paragraphs(orig.body, 'p class=MsoNormal').replace(/<\/p class=MsoNormal>/g, '<o:p></o:p></p>')}</div></body></html>`;
      return { prefix: lang.outlook.prefix, separator, headers: hs, gap: 1, html };
    }
    case 'new-outlook': {
      const hs = headers(lang.mac, o, ['from', 'date', 'to', 'subject']);
      return {
        prefix: lang.outlook.prefix, separator: [], headers: hs, gap: 1,
        html: (note, orig) =>
          `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><div class="elementToProof">${esc(note)}</div><div id="mail-editor-reference-message-container"><div class="ms-outlook-mobile-reference-message skipProofing"><div style="border:none;border-top:solid #B5C4DF 1.0pt;padding:3.0pt 0in 0in 0in"><p style="margin:0in">` +
          hs.map((h) => `<b><span style="font-size:12.0pt;color:black">${esc(h.label)} </span></b><span style="font-size:12.0pt;color:black">${h.html}</span>`).join('<br>') +
          `</p></div><div><p>${paragraphs(orig.body)}</p></div></div></div></body></html>`,
      };
    }
    case 'thunderbird': {
      const hs = headers(lang.thunderbird, { ...o, date: RFC_DATE }, ['subject', 'date', 'from', 'to'], {
        text: angle(o.from),
        html: `${esc(o.from.name)} <a class="moz-txt-link-rfc2396E" href="mailto:${esc(o.from.address)}">&lt;${esc(o.from.address)}&gt;</a>`,
      });
      return {
        prefix: 'Fwd:', separator: ['', '', '', lang.thunderbird.separator], headers: hs, joiner: ' \t', gap: 3,
        html: (note, orig) =>
          `<html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8"></head><body><p>${esc(note)}</p><div class="moz-forward-container"><br><br>${esc(lang.thunderbird.separator)}<table class="moz-email-headers-table" cellspacing="0" cellpadding="0" border="0"><tbody>` +
          hs.map((h) => `<tr><th valign="BASELINE" nowrap="nowrap" align="RIGHT">${esc(h.label)} </th><td>${h.html}</td></tr>`).join('') +
          `</tbody></table><br><br>${paragraphs(orig.body, 'p')}</div></body></html>`,
      };
    }
    case 'yahoo': {
      const hs = headers(lang.yahoo, o, ['from', 'to', 'date', 'subject']);
      return {
        prefix: 'Fwd:', separator: ['', '', `   ${lang.yahoo.separator}`], headers: hs, stuck: true, gap: 1,
        html: (note, orig) =>
          `<html><head></head><body><div class="ydp5f1a3b7cyahoo-style-wrap" style="font-family:Helvetica Neue, Helvetica, Arial, sans-serif;font-size:13px;"><div dir="ltr" data-setdir="false">${esc(note)}</div><div><br></div><div id="ydp5f1a3b7cyahoo_quoted_8123456789" class="ydp5f1a3b7cyahoo_quoted"><div style="font-family:'Helvetica Neue', Helvetica, Arial, sans-serif;font-size:13px;color:#26282a;"><div>${esc(lang.yahoo.separator)}</div>` +
          hs.map((h) => `<div><b>${esc(h.label)}</b> ${h.html}</div>`).join('') +
          `<div><br></div><div><br></div><div dir="ltr">${paragraphs(orig.body)}</div></div></div></div></body></html>`,
      };
    }
    case 'hubspot': {
      const local = lang.hubspot;
      const labels = local ?? ENGLISH.hubspot!;
      const hs = headers(labels, local ? o : { ...o, date: ENGLISH.date }, ['from', 'date', 'subject', 'to']);
      return {
        prefix: 'Fwd:', separator: [labels.separator], headers: hs, gap: 2,
        html: (note, orig) =>
          `<div>${esc(note)}</div><div><br></div><div>${esc(labels.separator)}<br>` +
          hs.map((h) => `${esc(h.label)} ${h.html}<br>`).join('') +
          `<br><br>${paragraphs(orig.body)}</div>`,
      };
    }
    case 'missive': {
      const hs = headers(ENGLISH.hubspot!, { ...o, date: 'June 3, 2024 at 10:15 GMT+2' }, ['from', 'date', 'subject', 'to']);
      return {
        prefix: 'Fwd:', separator: ['---------- Forwarded message ----------'], headers: hs, quoteBody: true, gap: 1,
        html: (note, orig) =>
          `<div>${esc(note)}</div><div class="missive_quote"><div>---------- Forwarded message ----------<br>` +
          hs.map((h) => `${esc(h.label)} ${h.html}<br>`).join('') +
          `<br></div><blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">${paragraphs(orig.body)}</blockquote></div>`,
      };
    }
    case 'mailmate': {
      const hs = headers(ENGLISH.hubspot!, { ...o, date: '3 Jun 2024, at 10:15' }, ['from', 'to', 'subject', 'date']);
      return {
        prefix: 'Fwd:', separator: ['Forwarded message:', ''], headers: hs, quoteHeaders: true, quoteBody: true, gap: 1,
        html: (note, orig) =>
          `<html><body><div style="font-family: sans-serif"><div class="markdown" style="white-space: normal;"><p dir="auto">${esc(note)}</p><p dir="auto">Forwarded message:</p><blockquote style="margin: 0 0 5px; padding-left: 5px; border-left: 2px solid #777777; color: #777777;"><p dir="auto">` +
          hs.map((h) => `${esc(h.label)} ${h.html}`).join('<br>') +
          `</p>${paragraphs(orig.body, 'p')}</blockquote></div></div></body></html>`,
      };
    }
    case 'ionos': {
      const local = lang.ionos;
      const labels = local ?? ENGLISH.ionos!;
      const hs = headers(labels, local ? o : { ...o, date: '06/03/2024 10:15 AM' }, ['from', 'to', 'date', 'subject'], {
        text: `"${o.from.name}" <${o.from.address}>`,
        html: `"${esc(o.from.name)}" &lt;${esc(o.from.address)}&gt;`,
      });
      return {
        prefix: 'Fwd:', separator: ['\u00a0', labels.separator], headers: hs, lineEnd: '\u00a0', gap: 1,
        html: (note, orig) =>
          `<!doctype html><html><head><meta charset="UTF-8"></head><body><div class="default-style">${esc(note)}</div><div class="default-style">&nbsp;</div><blockquote type="cite"><div>${esc(labels.separator)}</div>` +
          hs.map((h) => `<div>${esc(h.label)} ${h.html}&nbsp;</div>`).join('') +
          `<div>&nbsp;</div>${paragraphs(orig.body)}</blockquote></body></html>`,
      };
    }
  }
}

const quote = (lines: string[]) => lines.map((line) => (line === '' ? '>' : `> ${line}`));

function text(b: Block, o: Original, variant: Variant): string {
  const label = (h: Header) => (variant === 'bold' ? `*${h.label}*` : h.label);
  let headerLines = b.headers.map((h) => `${label(h)}${b.joiner ?? ' '}${h.value}${b.lineEnd ?? ''}`);
  if (b.stuck) headerLines = [headerLines.join('')];
  if (b.quoteHeaders) headerLines = quote(headerLines);
  const body = b.quoteBody ? quote(o.body) : o.body;
  const forwarded = [...b.separator, ...headerLines, ...Array<string>(b.gap).fill(b.quoteHeaders ? '>' : ''), ...body];
  const lines = [AGENT_NOTE, '', ...AGENT_SIGNATURE, '', ...(variant === 'quoted' ? quote(forwarded) : forwarded)];
  return `${lines.join('\n')}\n`;
}

/** Every client in every language in every variant: the generated corpus, in a stable order. */
export function forwardCases(): ForwardCase[] {
  const cases: ForwardCase[] = [];
  for (const lang of LANGUAGES) {
    for (const client of CLIENTS) {
      for (const variant of VARIANTS) {
        const n = cases.length + 1;
        // One customer per case, so each case's attribution is checked on its own.
        const from = { name: lang.person.name, address: `${lang.person.local}.${n}@${lang.person.domain}` };
        const body = [lang.greeting, '', lang.words, '', lang.closing];
        const o: Original = { from, to: AGENT, subject: lang.subject, date: lang.date, body: body.flatMap((p) => p.split('\n')) };
        const b = block(client, lang, o);
        const date = b.headers.find((h) => h.field === 'date')!.value;
        cases.push({
          id: `${client}/${lang.code}/${variant}`,
          client,
          language: lang.code,
          variant,
          subject: `${b.prefix} ${lang.subject}`,
          text: variant === 'html' ? null : text(b, o, variant),
          html: variant === 'html' || variant === 'text' ? b.html([AGENT_NOTE, ...AGENT_SIGNATURE].join('\n'), o) : null,
          expected: { address: from.address.toLowerCase(), name: from.name, subject: lang.subject, date, words: lang.words },
        });
      }
    }
  }
  return cases;
}

/** The agent's email as raw RFC 822 (UTF-8, base64 parts), as it reaches the support address. */
export function forwardEml(c: ForwardCase, n: number): Buffer {
  const boundary = `fwd-corpus-${n}`;
  const part = (type: string, body: string) =>
    [`Content-Type: ${type}; charset="UTF-8"`, 'Content-Transfer-Encoding: base64', '', Buffer.from(body.replace(/\r?\n/g, '\r\n')).toString('base64').replace(/.{76}/g, '$&\r\n')].join('\r\n');
  const header = [
    `From: ${AGENT.name} <${AGENT.address}>`,
    'To: help@acme.com',
    `Subject: =?UTF-8?B?${Buffer.from(c.subject).toString('base64')}?=`,
    'Date: Tue, 4 Jun 2024 09:02:11 +0200',
    `Message-ID: <fwd-corpus-${n}.${c.id.replace(/\//g, '.')}@mail.acme.com>`,
    'MIME-Version: 1.0',
  ];
  const body =
    c.text !== null && c.html !== null
      ? [`Content-Type: multipart/alternative; boundary="${boundary}"`, '', `--${boundary}`, part('text/plain', c.text), `--${boundary}`, part('text/html', c.html), `--${boundary}--`, ''].join('\r\n')
      : part(c.html !== null ? 'text/html' : 'text/plain', c.html ?? c.text!);
  return Buffer.from(`${header.join('\r\n')}\r\n${body}\r\n`);
}
