/**
 * Mail providers whose domain says nothing about the sender's company: a customer writing from
 * one of these gets no company. Brands listed without a suffix match under every public suffix
 * (gmx.de, gmx.net, yandex.ru, yahoo.co.jp ...).
 */
const EXACT = new Set([
  'gmail.com', 'googlemail.com',
  'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'passport.com',
  'yahoo.com', 'ymail.com', 'rocketmail.com',
  'icloud.com', 'me.com', 'mac.com',
  'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me',
  'aol.com', 'aim.com',
  'qq.com', 'foxmail.com', '163.com', '126.com', 'yeah.net', 'sina.com', 'sohu.com', 'aliyun.com',
  'mail.ru', 'inbox.ru', 'list.ru', 'bk.ru', 'internet.ru', 'ya.ru',
  'web.de', 't-online.de', 'freenet.de', 'posteo.de', 'mailbox.org',
  'zoho.com', 'zohomail.com', 'fastmail.com', 'fastmail.fm', 'hey.com', 'tutanota.com', 'tuta.io',
  'naver.com', 'daum.net', 'hanmail.net', 'rediffmail.com',
  'comcast.net', 'verizon.net', 'att.net', 'sbcglobal.net', 'btinternet.com', 'orange.fr', 'free.fr',
  'laposte.net', 'libero.it', 'virgilio.it', 'seznam.cz', 'wp.pl', 'o2.pl', 'interia.pl',
]);

const ANY_SUFFIX = new Set(['gmx', 'yandex', 'yahoo', 'hotmail', 'outlook', 'live']);

/** `registrable` is the domain under its public suffix (acme.co.uk); `label` the part before it (acme). */
export function isPublicEmailDomain(registrable: string, label: string): boolean {
  return EXACT.has(registrable) || ANY_SUFFIX.has(label);
}
