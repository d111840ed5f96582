import { describe, expect, it } from 'vitest';
import { inferCompany } from './company-inference.ts';

describe('inferCompany', () => {
  it.each([
    ['jeff@nike.com', { domain: 'nike.com', name: 'Nike' }],
    ['a@support.acme.co.uk', { domain: 'acme.co.uk', name: 'Acme' }],
    ['ops@eu.mail.globex.com.au', { domain: 'globex.com.au', name: 'Globex' }],
    ['x@big-corp.io', { domain: 'big-corp.io', name: 'Big Corp' }],
    ['x@MIXED.Example.ORG', { domain: 'example.org', name: 'Example' }],
    ['x@müller.de', { domain: 'müller.de', name: 'Müller' }],
    ['x@xn--mller-kva.de', { domain: 'xn--mller-kva.de', name: 'Müller' }],
  ])('%s -> %o', (email, expected) => {
    expect(inferCompany(email)).toEqual(expected);
  });

  it.each([
    'a@gmail.com', 'a@googlemail.com', 'a@outlook.com', 'a@hotmail.co.uk', 'a@live.fr', 'a@yahoo.com', 'a@yahoo.co.jp',
    'a@icloud.com', 'a@proton.me', 'a@aol.com', 'a@gmx.de', 'a@gmx.net', 'a@yandex.ru', 'a@yandex.com', 'a@qq.com',
    'a@163.com', 'a@mail.ru',
  ])('no company for the public provider %s', (email) => {
    expect(inferCompany(email)).toBeNull();
  });

  it.each(['root@localhost', 'a@10.0.0.1', 'a@[127.0.0.1]', 'a@intranet.internal', 'no-at-sign', '@nike.com'])('no company for %s', (email) => {
    expect(inferCompany(email)).toBeNull();
  });
});
