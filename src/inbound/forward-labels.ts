/**
 * The words mail clients write above a forwarded message, for what email-forward-parser has no
 * pattern for: Chinese and Japanese, date labels of some localised Outlooks (Odesláno, Enviado el,
 * Gönderildi, Надіслано, ...), and header lines run together by HTML-to-text conversion. From the
 * clients' own localisations (Thunderbird's l10n files, Outlook, Apple Mail, Gmail, Yahoo).
 */

export type Field = 'from' | 'date' | 'subject' | 'other';

/** Header labels, lower-case, by the field they name. */
const LABELS: Readonly<Record<Exclude<Field, 'other'>, readonly string[]>> = Object.freeze({
  from: [
    'from', 'von', 'de', 'de la', 'van', 'fra', 'från', 'od', 'da', 'mittente', 'lähettäjä', 'feladó', 'kimden', 'от', 'від',
    'šalje', 'nadawca', '差出人', '发件人', '寄件者', '寄件人',
  ],
  date: [
    'date', 'sent', 'datum', 'gesendet', 'envoyé', 'fecha', 'enviado', 'enviado el', 'enviada em', 'verzonden', 'dato', 'sendt',
    'skickat', 'päivämäärä', 'päiväys', 'lähetetty', 'dátum', 'elküldve', 'data', 'inviato', 'dată', 'trimis', 'дата', 'отправлено',
    'надіслано', 'відправлено', 'odesláno', 'odoslané', 'wysłano', 'tarih', 'gönderildi', 'gönderilen', 'poslano', '日付', '送信日時',
    '日期', '发送时间', '時間',
  ],
  subject: [
    'subject', 'betreff', 'objet', 'sujet', 'asunto', 'onderwerp', 'emne', 'ämne', 'aihe', 'tárgy', 'oggetto', 'predmet', 'předmět',
    'temat', 'assunto', 'subiect', 'тема', 'konu', 'naslov', '件名', '主题', '主旨',
  ],
});

const OTHER: readonly string[] = [
  'to', 'an', 'à', 'pour', 'para', 'aan', 'til', 'till', 'komu', 'do', 'a', 'vastaanottaja', 'címzett', 'kime', 'кому', 'către',
  'prima', 'za', 'pre', 'adresat', '宛先', '收件人', 'cc', 'bcc', 'kopie', 'kopia', 'kópia', 'kopi', 'kopio', 'копия', 'копія', 'dw',
  'másolat', 'bilgi', 'kopija', 'cci', 'reply-to', 'antwort an', 'répondre à', 'responder a', 'beantwoorden aan', 'importance',
  'wichtigkeit', '抄送', '送信者', 'attachments', 'anlagen',
];

export const HEADER_FIELDS: ReadonlyMap<string, Field> = new Map<string, Field>([
  ...OTHER.map((label) => [label, 'other'] as const),
  ...Object.entries(LABELS).flatMap(([field, labels]) => labels.map((label) => [label, field as Field] as const)),
]);

/** Apple Mail's line above a forward (`Begin forwarded message:`) in its localisations, and MailMate's. */
export const FORWARD_INTROS: readonly string[] = Object.freeze([
  'begin forwarded message', 'forwarded message', 'anfang der weitergeleiteten nachricht', 'anfang der weitergeleiteten e-mail',
  'début du message réexpédié', 'début du message transféré', 'inicio del mensaje reenviado', 'begin doorgestuurd bericht',
  'začátek přeposílané zprávy', 'start på videresendt besked', 'välitetty viesti alkaa', 'započni proslijeđenu poruku',
  'továbbított levél kezdete', 'inizio messaggio inoltrato', 'videresendt melding', 'początek przekazywanej wiadomości',
  'início da mensagem encaminhada', 'início da mensagem reencaminhada', 'începe mesajul redirecționat',
  'начало переадресованного сообщения', 'začiatok preposlanej správy', 'vidarebefordrat mejl', 'i̇leti başlangıcı', 'ileti başlangıcı',
  'початок листа, що пересилається', '転送されたメッセージ', '开始转发的邮件', '转发的邮件', '以下为转发的邮件', '轉寄的郵件',
]);

/**
 * Labels as clients write them (capitalised) that may start a header line run into the previous
 * one, longest first. One-letter labels (Italian `A:`) would split ordinary words.
 */
export const STUCK_LABELS: readonly string[] = Object.freeze(
  [...HEADER_FIELDS.keys()]
    .filter((label) => [...label].length >= 2)
    .map((label) => label.charAt(0).toUpperCase() + label.slice(1))
    // Romanian Thunderbird writes its sender label in lower case.
    .concat('de la')
    .sort((a, b) => b.length - a.length),
);
