/**
 * What each mail client writes above a forwarded message, in each language, for the generated
 * forward corpus (forward-generator.ts). Written from the clients' own localisations, not from
 * any parser's patterns, so the corpus judges the parser instead of mirroring it:
 * - Thunderbird: thunderbird/thunderbird-l10n, `mail/chrome/messenger/mime.properties` (labels
 *   1000 Subject, 1007 Date, 1009 From, 1012 To) and `messengercompose/composeMsgs.properties`
 *   (`mailnews.forward_header_originalmessage`), as shipped; `ja` ships English.
 * - Outlook (desktop, on the web, new Outlook): the header labels and subject prefixes of the
 *   localised Microsoft 365 apps as seen in forwarded mail (Von/Gesendet/An/Betreff, De :/Envoyé :/À :/Objet :, ...).
 * - Apple Mail, Gmail, Yahoo, HubSpot, IONOS (Open-Xchange): their forwarded-mail headers as seen
 *   in mail they send. Gmail localises only the sender label; Missive and MailMate are English-only
 *   apps, HubSpot and IONOS fall back to English where they have no translation.
 */

export type LanguageCode =
  | 'en' | 'cs' | 'da' | 'de' | 'es' | 'fi' | 'fr' | 'hr' | 'hu' | 'it' | 'ja' | 'nl'
  | 'no' | 'pl' | 'pt-BR' | 'pt-PT' | 'ro' | 'ru' | 'sk' | 'sv' | 'tr' | 'uk' | 'zh';

/** `From`-first header labels; a label is written as the client writes it, with its colon. */
export type Labels = { from: string; date: string; to: string; subject: string };

export type Language = {
  code: LanguageCode;
  name: string;
  /** The customer who wrote the original message. */
  person: { name: string; local: string; domain: string };
  subject: string;
  /** The original message's words: greeting, the sentence the test looks for, closing. */
  greeting: string;
  words: string;
  closing: string;
  /** A long date as the localised clients write it. */
  date: string;
  /** Outlook desktop, on the web and new Outlook for Windows: From / Sent / To / Subject. */
  outlook: Labels & { original: string; prefix: string };
  /** New Outlook for Mac: From / Date / To / Subject, no separator line. */
  mac: Labels;
  apple: Labels & { separator: string };
  /** Gmail translates the sender label only. */
  gmailFrom: string;
  thunderbird: Labels & { separator: string };
  yahoo: Labels & { separator: string };
  hubspot: (Labels & { separator: string }) | null;
  ionos: (Labels & { separator: string }) | null;
};

const l = (from: string, date: string, to: string, subject: string): Labels => ({ from, date, to, subject });

export const LANGUAGES: readonly Language[] = Object.freeze([
  {
    code: 'en', name: 'English',
    person: { name: 'Jane Doe', local: 'jane.doe', domain: 'northwind.example' },
    subject: 'Export to CSV is empty', greeting: 'Hi Sam,', words: 'every export I run since yesterday downloads an empty file.', closing: 'Thanks,\nJane',
    date: 'Monday, June 3, 2024 10:15 AM',
    outlook: { ...l('From:', 'Sent:', 'To:', 'Subject:'), original: '-----Original Message-----', prefix: 'FW:' },
    mac: l('From:', 'Date:', 'To:', 'Subject:'),
    apple: { ...l('From:', 'Date:', 'To:', 'Subject:'), separator: 'Begin forwarded message:' },
    gmailFrom: 'From:',
    thunderbird: { ...l('From:', 'Date:', 'To:', 'Subject:'), separator: '-------- Forwarded Message --------' },
    yahoo: { ...l('From:', 'Sent:', 'To:', 'Subject:'), separator: '----- Forwarded Message -----' },
    hubspot: { ...l('From:', 'Date:', 'To:', 'Subject:'), separator: '---------- Forwarded message ---------' },
    ionos: { ...l('From:', 'Date:', 'To:', 'Subject:'), separator: '---------- Original Message ----------' },
  },
  {
    code: 'cs', name: 'Czech',
    person: { name: 'Jan Novák', local: 'jan.novak', domain: 'firma.cz' },
    subject: 'Export do CSV je prázdný', greeting: 'Dobrý den,', words: 'každý export od včerejška stáhne prázdný soubor.', closing: 'Děkuji,\nJan',
    date: 'pondělí 3. června 2024 10:15',
    outlook: { ...l('Od:', 'Odesláno:', 'Komu:', 'Předmět:'), original: '-----Původní zpráva-----', prefix: 'FW:' },
    mac: l('Od:', 'Datum:', 'Komu:', 'Předmět:'),
    apple: { ...l('Od:', 'Datum:', 'Komu:', 'Předmět:'), separator: 'Začátek přeposílané zprávy:' },
    gmailFrom: 'Od:',
    thunderbird: { ...l('Od:', 'Datum:', 'Komu:', 'Předmět:'), separator: '-------- Přeposlaná zpráva --------' },
    yahoo: { ...l('Od:', 'Odesláno:', 'Komu:', 'Předmět:'), separator: '----- Přeposlaná zpráva -----' },
    hubspot: null,
    ionos: null,
  },
  {
    code: 'da', name: 'Danish',
    person: { name: 'Mette Sørensen', local: 'mette.sorensen', domain: 'tegnestue.dk' },
    subject: 'Eksport til CSV er tom', greeting: 'Hej Sam,', words: 'hver eksport siden i går giver en tom fil.', closing: 'Tak,\nMette',
    date: 'mandag den 3. juni 2024 10:15',
    outlook: { ...l('Fra:', 'Sendt:', 'Til:', 'Emne:'), original: '-----Oprindelig meddelelse-----', prefix: 'VS:' },
    mac: l('Fra:', 'Dato:', 'Til:', 'Emne:'),
    apple: { ...l('Fra:', 'Dato:', 'Til:', 'Emne:'), separator: 'Start på videresendt besked:' },
    gmailFrom: 'Fra:',
    thunderbird: { ...l('Fra:', 'Dato:', 'Til:', 'Emne:'), separator: '-------- Videresendt meddelelse --------' },
    yahoo: { ...l('Fra:', 'Sendt:', 'Til:', 'Emne:'), separator: '----- Videresendt meddelelse -----' },
    hubspot: { ...l('Fra:', 'Dato:', 'Til:', 'Emne:'), separator: '---------- Videresendt meddelelse ---------' },
    ionos: null,
  },
  {
    code: 'de', name: 'German',
    person: { name: 'Jürgen Müller', local: 'j.mueller', domain: 'beispiel.de' },
    subject: 'Export nach CSV ist leer', greeting: 'Hallo Sam,', words: 'jeder Export seit gestern liefert eine leere Datei.', closing: 'Danke,\nJürgen',
    date: 'Montag, 3. Juni 2024 10:15',
    outlook: { ...l('Von:', 'Gesendet:', 'An:', 'Betreff:'), original: '-----Ursprüngliche Nachricht-----', prefix: 'WG:' },
    mac: l('Von:', 'Datum:', 'An:', 'Betreff:'),
    apple: { ...l('Von:', 'Datum:', 'An:', 'Betreff:'), separator: 'Anfang der weitergeleiteten Nachricht:' },
    gmailFrom: 'Von:',
    thunderbird: { ...l('Von:', 'Datum:', 'An:', 'Betreff:'), separator: '-------- Weitergeleitete Nachricht --------' },
    yahoo: { ...l('Von:', 'Gesendet:', 'An:', 'Betreff:'), separator: '----- Weitergeleitete Nachricht -----' },
    hubspot: { ...l('Von:', 'Datum:', 'An:', 'Betreff:'), separator: '---------- Weitergeleitete Nachricht ---------' },
    ionos: { ...l('Von:', 'Datum:', 'An:', 'Betreff:'), separator: '---------- Ursprüngliche Nachricht ----------' },
  },
  {
    code: 'es', name: 'Spanish',
    person: { name: 'Lucía García', local: 'lucia.garcia', domain: 'ejemplo.es' },
    subject: 'La exportación a CSV está vacía', greeting: 'Hola Sam:', words: 'todas las exportaciones desde ayer descargan un archivo vacío.', closing: 'Gracias,\nLucía',
    date: 'lunes, 3 de junio de 2024 10:15',
    outlook: { ...l('De:', 'Enviado el:', 'Para:', 'Asunto:'), original: '-----Mensaje original-----', prefix: 'RV:' },
    mac: l('De:', 'Fecha:', 'Para:', 'Asunto:'),
    apple: { ...l('De:', 'Fecha:', 'Para:', 'Asunto:'), separator: 'Inicio del mensaje reenviado:' },
    gmailFrom: 'De:',
    thunderbird: { ...l('De:', 'Fecha:', 'Para:', 'Asunto:'), separator: '-------- Mensaje reenviado --------' },
    yahoo: { ...l('De:', 'Enviado:', 'Para:', 'Asunto:'), separator: '----- Mensaje reenviado -----' },
    hubspot: { ...l('De:', 'Fecha:', 'Para:', 'Asunto:'), separator: '---------- Mensaje reenviado ---------' },
    ionos: { ...l('De:', 'Fecha:', 'Para:', 'Asunto:'), separator: '---------- Mensaje original ----------' },
  },
  {
    code: 'fi', name: 'Finnish',
    person: { name: 'Matti Virtanen', local: 'matti.virtanen', domain: 'yritys.fi' },
    subject: 'CSV-vienti on tyhjä', greeting: 'Hei Sam,', words: 'jokainen vienti eilisestä lähtien lataa tyhjän tiedoston.', closing: 'Kiitos,\nMatti',
    date: 'maanantai 3. kesäkuuta 2024 10.15',
    outlook: { ...l('Lähettäjä:', 'Lähetetty:', 'Vastaanottaja:', 'Aihe:'), original: '-----Alkuperäinen viesti-----', prefix: 'VL:' },
    mac: l('Lähettäjä:', 'Päivämäärä:', 'Vastaanottaja:', 'Aihe:'),
    apple: { ...l('Lähettäjä:', 'Päivämäärä:', 'Vastaanottaja:', 'Aihe:'), separator: 'Välitetty viesti alkaa:' },
    gmailFrom: 'Lähettäjä:',
    thunderbird: { ...l('Lähettäjä:', 'Päiväys:', 'Vastaanottaja:', 'Aihe:'), separator: '-------- Välitetty viesti / Fwd.Msg --------' },
    yahoo: { ...l('Lähettäjä:', 'Lähetetty:', 'Vastaanottaja:', 'Aihe:'), separator: '----- Edelleenlähetetty viesti -----' },
    hubspot: { ...l('Lähettäjä:', 'Päivämäärä:', 'Vastaanottaja:', 'Aihe:'), separator: '---------- Edelleenlähetetty viesti ---------' },
    ionos: null,
  },
  {
    code: 'fr', name: 'French',
    person: { name: 'Amélie Dupont', local: 'amelie.dupont', domain: 'exemple.fr' },
    subject: "L'export CSV est vide", greeting: 'Bonjour Sam,', words: "chaque export depuis hier télécharge un fichier vide.", closing: 'Merci,\nAmélie',
    date: 'lundi 3 juin 2024 10:15',
    // French typography: a space (Outlook, Yahoo) or a no-break space (Apple Mail, Thunderbird) before the colon.
    outlook: { ...l('De :', 'Envoyé :', 'À :', 'Objet :'), original: "-----Message d'origine-----", prefix: 'TR:' },
    mac: l('De :', 'Date :', 'À :', 'Objet :'),
    apple: { ...l('De\u00a0:', 'Date\u00a0:', 'À\u00a0:', 'Objet\u00a0:'), separator: 'Début du message réexpédié\u00a0:' },
    gmailFrom: 'De :',
    thunderbird: { ...l('De\u00a0:', 'Date\u00a0:', 'Pour\u00a0:', 'Sujet\u00a0:'), separator: '-------- Message transféré --------' },
    yahoo: { ...l('De :', 'Envoyé :', 'À :', 'Objet :'), separator: '----- Message transmis -----' },
    hubspot: { ...l('De :', 'Date :', 'À :', 'Objet :'), separator: '---------- Message transféré ---------' },
    ionos: { ...l('De :', 'Date :', 'À :', 'Objet :'), separator: "---------- Message d'origine ----------" },
  },
  {
    code: 'hr', name: 'Croatian',
    person: { name: 'Ivana Horvat', local: 'ivana.horvat', domain: 'tvrtka.hr' },
    subject: 'Izvoz u CSV je prazan', greeting: 'Pozdrav Sam,', words: 'svaki izvoz od jučer preuzme praznu datoteku.', closing: 'Hvala,\nIvana',
    date: 'ponedjeljak, 3. lipnja 2024. 10:15',
    outlook: { ...l('Od:', 'Poslano:', 'Prima:', 'Predmet:'), original: '-----Izvorna poruka-----', prefix: 'FW:' },
    mac: l('Od:', 'Datum:', 'Za:', 'Predmet:'),
    apple: { ...l('Od:', 'Datum:', 'Za:', 'Predmet:'), separator: 'Započni proslijeđenu poruku:' },
    gmailFrom: 'Od:',
    thunderbird: { ...l('Šalje:', 'Datum:', 'Prima:', 'Naslov:'), separator: '-------- Proslijeđena poruka --------' },
    yahoo: { ...l('Od:', 'Poslano:', 'Za:', 'Predmet:'), separator: '----- Proslijeđena poruka -----' },
    hubspot: null,
    ionos: null,
  },
  {
    code: 'hu', name: 'Hungarian',
    person: { name: 'Nagy Zoltán', local: 'zoltan.nagy', domain: 'ceg.hu' },
    subject: 'Üres a CSV-export', greeting: 'Kedves Sam!', words: 'tegnap óta minden export üres fájlt tölt le.', closing: 'Köszönöm,\nZoltán',
    date: '2024. június 3., hétfő 10:15',
    outlook: { ...l('Feladó:', 'Elküldve:', 'Címzett:', 'Tárgy:'), original: '-----Eredeti üzenet-----', prefix: 'FW:' },
    mac: l('Feladó:', 'Dátum:', 'Címzett:', 'Tárgy:'),
    apple: { ...l('Feladó:', 'Dátum:', 'Címzett:', 'Tárgy:'), separator: 'Továbbított levél kezdete:' },
    gmailFrom: 'Feladó:',
    thunderbird: { ...l('Feladó:', 'Dátum:', 'Címzett:', 'Tárgy:'), separator: '-------- Továbbított üzenet --------' },
    yahoo: { ...l('Feladó:', 'Elküldve:', 'Címzett:', 'Tárgy:'), separator: '----- Továbbított üzenet -----' },
    hubspot: null,
    ionos: null,
  },
  {
    code: 'it', name: 'Italian',
    person: { name: 'Giulia Rossi', local: 'giulia.rossi', domain: 'esempio.it' },
    subject: "L'esportazione in CSV è vuota", greeting: 'Ciao Sam,', words: 'ogni esportazione da ieri scarica un file vuoto.', closing: 'Grazie,\nGiulia',
    date: 'lunedì 3 giugno 2024 10:15',
    outlook: { ...l('Da:', 'Inviato:', 'A:', 'Oggetto:'), original: '-----Messaggio originale-----', prefix: 'I:' },
    mac: l('Da:', 'Data:', 'A:', 'Oggetto:'),
    apple: { ...l('Da:', 'Data:', 'A:', 'Oggetto:'), separator: 'Inizio messaggio inoltrato:' },
    gmailFrom: 'Da:',
    thunderbird: { ...l('Mittente:', 'Data:', 'A:', 'Oggetto:'), separator: '-------- Messaggio Inoltrato --------' },
    yahoo: { ...l('Da:', 'Inviato:', 'A:', 'Oggetto:'), separator: '----- Messaggio inoltrato -----' },
    hubspot: { ...l('Da:', 'Data:', 'A:', 'Oggetto:'), separator: '---------- Messaggio inoltrato ---------' },
    ionos: { ...l('Da:', 'Data:', 'A:', 'Oggetto:'), separator: '---------- Messaggio originale ----------' },
  },
  {
    code: 'ja', name: 'Japanese',
    person: { name: '山田 太郎', local: 'taro.yamada', domain: 'yamato-shoji.co.jp' },
    subject: 'CSVエクスポートが空です', greeting: 'サム様', words: '昨日からすべてのエクスポートで空のファイルがダウンロードされます。', closing: 'よろしくお願いします。\n山田',
    date: '2024年6月3日 月曜日 10:15',
    outlook: { ...l('差出人:', '送信日時:', '宛先:', '件名:'), original: '-----Original Message-----', prefix: 'FW:' },
    mac: l('差出人:', '日付:', '宛先:', '件名:'),
    apple: { ...l('差出人:', '日付:', '宛先:', '件名:'), separator: '転送されたメッセージ:' },
    gmailFrom: '差出人:',
    thunderbird: { ...l('From:', 'Date:', 'To:', 'Subject:'), separator: '-------- Forwarded Message --------' },
    yahoo: { ...l('差出人:', '送信日時:', '宛先:', '件名:'), separator: '----- 転送メッセージ -----' },
    // HubSpot's Japanese interface writes full-width colons.
    hubspot: { ...l('差出人：', '日付：', '宛先：', '件名：'), separator: '---------- 転送メッセージ ---------' },
    ionos: null,
  },
  {
    code: 'nl', name: 'Dutch',
    person: { name: 'Sanne de Vries', local: 'sanne.devries', domain: 'voorbeeld.nl' },
    subject: 'Export naar CSV is leeg', greeting: 'Hoi Sam,', words: 'elke export sinds gisteren downloadt een leeg bestand.', closing: 'Bedankt,\nSanne',
    date: 'maandag 3 juni 2024 10:15',
    outlook: { ...l('Van:', 'Verzonden:', 'Aan:', 'Onderwerp:'), original: '-----Oorspronkelijk bericht-----', prefix: 'FW:' },
    mac: l('Van:', 'Datum:', 'Aan:', 'Onderwerp:'),
    apple: { ...l('Van:', 'Datum:', 'Aan:', 'Onderwerp:'), separator: 'Begin doorgestuurd bericht:' },
    gmailFrom: 'Van:',
    thunderbird: { ...l('Van:', 'Datum:', 'Aan:', 'Onderwerp:'), separator: '-------- Doorgestuurd bericht --------' },
    yahoo: { ...l('Van:', 'Verzonden:', 'Aan:', 'Onderwerp:'), separator: '----- Doorgestuurd bericht -----' },
    hubspot: { ...l('Van:', 'Datum:', 'Aan:', 'Onderwerp:'), separator: '---------- Doorgestuurd bericht ---------' },
    ionos: null,
  },
  {
    code: 'no', name: 'Norwegian',
    person: { name: 'Ola Nordmann', local: 'ola.nordmann', domain: 'bedrift.no' },
    subject: 'Eksport til CSV er tom', greeting: 'Hei Sam,', words: 'hver eksport siden i går laster ned en tom fil.', closing: 'Takk,\nOla',
    date: 'mandag 3. juni 2024 10:15',
    outlook: { ...l('Fra:', 'Sendt:', 'Til:', 'Emne:'), original: '-----Opprinnelig melding-----', prefix: 'VS:' },
    mac: l('Fra:', 'Dato:', 'Til:', 'Emne:'),
    apple: { ...l('Fra:', 'Dato:', 'Til:', 'Emne:'), separator: 'Videresendt melding:' },
    gmailFrom: 'Fra:',
    thunderbird: { ...l('Fra:', 'Dato:', 'Til:', 'Emne:'), separator: '-------- Videresendt melding --------' },
    yahoo: { ...l('Fra:', 'Sendt:', 'Til:', 'Emne:'), separator: '----- Videresendt melding -----' },
    hubspot: { ...l('Fra:', 'Dato:', 'Til:', 'Emne:'), separator: '---------- Videresendt melding ---------' },
    ionos: null,
  },
  {
    code: 'pl', name: 'Polish',
    person: { name: 'Katarzyna Wójcik', local: 'k.wojcik', domain: 'firma.pl' },
    subject: 'Eksport do CSV jest pusty', greeting: 'Dzień dobry,', words: 'każdy eksport od wczoraj pobiera pusty plik.', closing: 'Dziękuję,\nKasia',
    date: 'poniedziałek, 3 czerwca 2024 10:15',
    outlook: { ...l('Od:', 'Wysłano:', 'Do:', 'Temat:'), original: '-----Oryginalna wiadomość-----', prefix: 'PD:' },
    mac: l('Od:', 'Data:', 'Do:', 'Temat:'),
    apple: { ...l('Od:', 'Data:', 'Do:', 'Temat:'), separator: 'Początek przekazywanej wiadomości:' },
    gmailFrom: 'Od:',
    thunderbird: { ...l('Nadawca:', 'Data:', 'Adresat:', 'Temat:'), separator: '--- Treść przekazanej wiadomości ---' },
    yahoo: { ...l('Od:', 'Wysłano:', 'Do:', 'Temat:'), separator: '----- Przekazana wiadomość -----' },
    hubspot: { ...l('Od:', 'Data:', 'Do:', 'Temat:'), separator: '---------- Przekazana wiadomość ---------' },
    ionos: null,
  },
  {
    code: 'pt-BR', name: 'Portuguese (Brazil)',
    person: { name: 'João Silva', local: 'joao.silva', domain: 'empresa.com.br' },
    subject: 'A exportação para CSV está vazia', greeting: 'Olá Sam,', words: 'toda exportação desde ontem baixa um arquivo vazio.', closing: 'Obrigado,\nJoão',
    date: 'segunda-feira, 3 de junho de 2024 10:15',
    outlook: { ...l('De:', 'Enviado:', 'Para:', 'Assunto:'), original: '-----Mensagem original-----', prefix: 'ENC:' },
    mac: l('De:', 'Data:', 'Para:', 'Assunto:'),
    apple: { ...l('De:', 'Data:', 'Para:', 'Assunto:'), separator: 'Início da mensagem encaminhada:' },
    gmailFrom: 'De:',
    thunderbird: { ...l('De:', 'Data:', 'Para:', 'Assunto:'), separator: '-------- Mensagem encaminhada --------' },
    yahoo: { ...l('De:', 'Enviado:', 'Para:', 'Assunto:'), separator: '----- Mensagem encaminhada -----' },
    hubspot: { ...l('De:', 'Data:', 'Para:', 'Assunto:'), separator: '---------- Mensagem encaminhada ---------' },
    ionos: null,
  },
  {
    code: 'pt-PT', name: 'Portuguese (Portugal)',
    person: { name: 'Inês Ferreira', local: 'ines.ferreira', domain: 'empresa.pt' },
    subject: 'A exportação para CSV está vazia', greeting: 'Olá Sam,', words: 'cada exportação desde ontem descarrega um ficheiro vazio.', closing: 'Obrigada,\nInês',
    date: 'segunda-feira, 3 de junho de 2024 10:15',
    outlook: { ...l('De:', 'Enviado:', 'Para:', 'Assunto:'), original: '-----Mensagem original-----', prefix: 'FW:' },
    mac: l('De:', 'Data:', 'Para:', 'Assunto:'),
    apple: { ...l('De:', 'Data:', 'Para:', 'Assunto:'), separator: 'Início da mensagem reencaminhada:' },
    gmailFrom: 'De:',
    thunderbird: { ...l('De:', 'Data:', 'Para:', 'Assunto:'), separator: '-------- Mensagem reencaminhada --------' },
    yahoo: { ...l('De:', 'Enviado:', 'Para:', 'Assunto:'), separator: '----- Mensagem reencaminhada -----' },
    hubspot: null,
    ionos: null,
  },
  {
    code: 'ro', name: 'Romanian',
    person: { name: 'Andrei Popescu', local: 'andrei.popescu', domain: 'firma.ro' },
    subject: 'Exportul CSV este gol', greeting: 'Bună Sam,', words: 'fiecare export de ieri încoace descarcă un fișier gol.', closing: 'Mulțumesc,\nAndrei',
    date: 'luni, 3 iunie 2024 10:15',
    outlook: { ...l('De la:', 'Trimis:', 'Către:', 'Subiect:'), original: '-----Mesaj original-----', prefix: 'Redir.:' },
    mac: l('De la:', 'Dată:', 'Către:', 'Subiect:'),
    apple: { ...l('De la:', 'Dată:', 'Către:', 'Subiect:'), separator: 'Începe mesajul redirecționat:' },
    gmailFrom: 'De la:',
    thunderbird: { ...l('de la:', 'Dată:', 'Către:', 'Subiect:'), separator: '-------- Mesaj redirecționat --------' },
    yahoo: { ...l('De la:', 'Trimis:', 'Către:', 'Subiect:'), separator: '----- Mesaj redirecționat -----' },
    hubspot: null,
    ionos: null,
  },
  {
    code: 'ru', name: 'Russian',
    person: { name: 'Иван Петров', local: 'ivan.petrov', domain: 'kompaniya.ru' },
    subject: 'Экспорт в CSV пустой', greeting: 'Здравствуйте, Сэм!', words: 'каждый экспорт со вчерашнего дня скачивает пустой файл.', closing: 'Спасибо,\nИван',
    date: 'понедельник, 3 июня 2024 г. 10:15',
    outlook: { ...l('От:', 'Отправлено:', 'Кому:', 'Тема:'), original: '-----Исходное сообщение-----', prefix: 'FW:' },
    mac: l('От:', 'Дата:', 'Кому:', 'Тема:'),
    apple: { ...l('От:', 'Дата:', 'Кому:', 'Тема:'), separator: 'Начало переадресованного сообщения:' },
    gmailFrom: 'От:',
    thunderbird: { ...l('От:', 'Дата:', 'Кому:', 'Тема:'), separator: '-------- Перенаправленное сообщение --------' },
    yahoo: { ...l('От:', 'Отправлено:', 'Кому:', 'Тема:'), separator: '----- Пересылаемое сообщение -----' },
    hubspot: null,
    ionos: null,
  },
  {
    code: 'sk', name: 'Slovak',
    person: { name: 'Peter Horváth', local: 'peter.horvath', domain: 'firma.sk' },
    subject: 'Export do CSV je prázdny', greeting: 'Dobrý deň,', words: 'každý export od včera stiahne prázdny súbor.', closing: 'Ďakujem,\nPeter',
    date: 'pondelok 3. júna 2024 10:15',
    outlook: { ...l('Od:', 'Odoslané:', 'Komu:', 'Predmet:'), original: '-----Pôvodná správa-----', prefix: 'FW:' },
    mac: l('Od:', 'Dátum:', 'Komu:', 'Predmet:'),
    apple: { ...l('Od:', 'Dátum:', 'Komu:', 'Predmet:'), separator: 'Začiatok preposlanej správy:' },
    gmailFrom: 'Od:',
    thunderbird: { ...l('Od:', 'Dátum:', 'Pre:', 'Predmet:'), separator: '-------- Preposlaná správa --- Forwarded Message --------' },
    yahoo: { ...l('Od:', 'Odoslané:', 'Komu:', 'Predmet:'), separator: '----- Preposlaná správa -----' },
    hubspot: null,
    ionos: null,
  },
  {
    code: 'sv', name: 'Swedish',
    person: { name: 'Anna Lindqvist', local: 'anna.lindqvist', domain: 'foretaget.se' },
    subject: 'Export till CSV är tom', greeting: 'Hej Sam,', words: 'varje export sedan i går laddar ner en tom fil.', closing: 'Tack,\nAnna',
    date: 'den 3 juni 2024 10:15',
    outlook: { ...l('Från:', 'Skickat:', 'Till:', 'Ämne:'), original: '-----Ursprungligt meddelande-----', prefix: 'VB:' },
    mac: l('Från:', 'Datum:', 'Till:', 'Ämne:'),
    apple: { ...l('Från:', 'Datum:', 'Till:', 'Ämne:'), separator: 'Vidarebefordrat mejl:' },
    gmailFrom: 'Från:',
    thunderbird: { ...l('Från:', 'Datum:', 'Till:', 'Ämne:'), separator: '-------- Vidarebefordrat meddelande --------' },
    yahoo: { ...l('Från:', 'Skickat:', 'Till:', 'Ämne:'), separator: '----- Vidarebefordrat meddelande -----' },
    hubspot: { ...l('Från:', 'Datum:', 'Till:', 'Ämne:'), separator: '---------- Vidarebefordrat meddelande ---------' },
    ionos: null,
  },
  {
    code: 'tr', name: 'Turkish',
    person: { name: 'Mehmet Yılmaz', local: 'mehmet.yilmaz', domain: 'sirket.com.tr' },
    subject: 'CSV dışa aktarımı boş', greeting: 'Merhaba Sam,', words: 'dünden beri her dışa aktarım boş bir dosya indiriyor.', closing: 'Teşekkürler,\nMehmet',
    date: '3 Haziran 2024 Pazartesi 10:15',
    outlook: { ...l('Kimden:', 'Gönderildi:', 'Kime:', 'Konu:'), original: '-----Özgün İleti-----', prefix: 'İLT:' },
    mac: l('Kimden:', 'Tarih:', 'Kime:', 'Konu:'),
    apple: { ...l('Kimden:', 'Tarih:', 'Kime:', 'Konu:'), separator: 'İleti başlangıcı:' },
    gmailFrom: 'Kimden:',
    thunderbird: { ...l('Kimden:', 'Tarih:', 'Kime:', 'Konu:'), separator: '-------- İletilen İleti --------' },
    yahoo: { ...l('Kimden:', 'Gönderilen:', 'Kime:', 'Konu:'), separator: '----- İletilmiş Mesaj -----' },
    hubspot: null,
    ionos: null,
  },
  {
    code: 'uk', name: 'Ukrainian',
    person: { name: 'Олена Коваленко', local: 'olena.kovalenko', domain: 'kompaniya.ua' },
    subject: 'Експорт у CSV порожній', greeting: 'Добрий день, Семе!', words: 'кожен експорт з учорашнього дня завантажує порожній файл.', closing: 'Дякую,\nОлена',
    date: 'понеділок, 3 червня 2024 р. 10:15',
    outlook: { ...l('Від:', 'Надіслано:', 'Кому:', 'Тема:'), original: '-----Початкове повідомлення-----', prefix: 'FW:' },
    mac: l('Від:', 'Дата:', 'Кому:', 'Тема:'),
    apple: { ...l('Від:', 'Дата:', 'Кому:', 'Тема:'), separator: 'Початок листа, що пересилається:' },
    gmailFrom: 'Від:',
    thunderbird: { ...l('Від:', 'Дата:', 'Кому:', 'Тема:'), separator: '-------- Переслане повідомлення --------' },
    yahoo: { ...l('Від:', 'Відправлено:', 'Кому:', 'Тема:'), separator: '----- Перенаправлене повідомлення -----' },
    hubspot: null,
    ionos: null,
  },
  {
    code: 'zh', name: 'Chinese',
    person: { name: '张伟', local: 'zhang.wei', domain: 'huaxin-keji.cn' },
    subject: 'CSV 导出为空', greeting: 'Sam 你好，', words: '从昨天开始每次导出都下载到一个空文件。', closing: '谢谢！\n张伟',
    date: '2024年6月3日 星期一 10:15',
    outlook: { ...l('发件人:', '发送时间:', '收件人:', '主题:'), original: '-----原始邮件-----', prefix: '转发:' },
    mac: l('发件人:', '日期:', '收件人:', '主题:'),
    apple: { ...l('发件人:', '日期:', '收件人:', '主题:'), separator: '开始转发的邮件：' },
    // Gmail's Chinese interface writes a full-width colon after the sender label.
    gmailFrom: '发件人：',
    thunderbird: { ...l('发件人:', '日期:', '收件人:', '主题:'), separator: '-------- 转发的消息 --------' },
    yahoo: { ...l('发件人:', '发送时间:', '收件人:', '主题:'), separator: '----- 转发的邮件 -----' },
    hubspot: null,
    ionos: null,
  },
]);
