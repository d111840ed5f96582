import { describe, expect, it } from 'vitest';
import {
  ATTACHMENT_CODES,
  DEFAULT_ATTACHMENT_LIMITS,
  judgeAttachments,
  realExtension,
  sniffExecutable,
  type AttachmentLimits,
} from './attachment-rules.ts';

const MB = 1024 * 1024;

function file(fileName: string | null, content: Buffer = Buffer.from('hello'), contentType = 'application/octet-stream') {
  return { fileName, contentType, content };
}

function judgeOne(fileName: string | null, content?: Buffer, contentType?: string) {
  const [decision] = judgeAttachments([file(fileName, content, contentType)]);
  return decision;
}

const TYPE = ATTACHMENT_CODES.fileTypeNotAllowed;
const PE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62)]);
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]);
const LNK = Buffer.from([0x4c, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00, 0x00, 0x00]);
const bytes = (...values: number[]) => Buffer.from(values);

describe('judgeAttachments: names', () => {
  it('accepts ordinary files, one decision per input in order', () => {
    expect(judgeAttachments([file('report.pdf'), file('photo.JPG'), file('notes')])).toEqual([
      { fileName: 'report.pdf', status: 'accepted' },
      { fileName: 'photo.JPG', status: 'accepted' },
      { fileName: 'notes', status: 'accepted' },
    ]);
    expect(judgeAttachments([])).toEqual([]);
  });

  it('refuses banned extensions whatever their case', () => {
    expect(judgeOne('setup.exe')).toEqual({ fileName: 'setup.exe', status: 'rejected', code: TYPE, reason: '.exe files are not allowed' });
    expect(judgeOne('SETUP.EXE')).toMatchObject({ status: 'rejected', code: TYPE, reason: '.exe files are not allowed' });
    expect(judgeOne('Run.VbS')).toMatchObject({ status: 'rejected', reason: '.vbs files are not allowed' });
    for (const extension of DEFAULT_ATTACHMENT_LIMITS.bannedExtensions) {
      expect(judgeOne(`file.${extension}`)).toMatchObject({ status: 'rejected', code: TYPE });
    }
  });

  it('judges the name Windows sees: trailing dots and spaces dropped', () => {
    expect(judgeOne('virus.exe. ')).toEqual({ fileName: 'virus.exe', status: 'rejected', code: TYPE, reason: '.exe files are not allowed' });
    expect(judgeOne('virus.exe...')).toMatchObject({ fileName: 'virus.exe', status: 'rejected' });
    expect(judgeOne('virus.scr . .')).toMatchObject({ fileName: 'virus.scr', status: 'rejected' });
  });

  it('judges double extensions by the last one', () => {
    expect(judgeOne('invoice.pdf.exe')).toMatchObject({ status: 'rejected', code: TYPE, reason: '.exe files are not allowed' });
    expect(judgeOne('report.exe.pdf')).toEqual({ fileName: 'report.exe.pdf', status: 'accepted' });
  });

  it('sees through bidi overrides and other invisible characters', () => {
    // Displays as "invoiceexe.pdf".
    expect(judgeOne('invoice\u202Efdp.exe')).toEqual({ fileName: 'invoicefdp.exe', status: 'rejected', code: TYPE, reason: '.exe files are not allowed' });
    expect(judgeOne('cv\u2066.scr\u2069')).toMatchObject({ fileName: 'cv.scr', status: 'rejected' });
    expect(judgeOne('a.e\u200Dx\u200Be\uFEFF')).toMatchObject({ fileName: 'a.exe', status: 'rejected' });
    expect(judgeOne('\u200Fphoto\u200E.png')).toEqual({ fileName: 'photo.png', status: 'accepted' });
  });

  it('cuts a name at NUL, as C string APIs do', () => {
    expect(judgeOne('evil.exe\0.jpg')).toMatchObject({ fileName: 'evil.exe', status: 'rejected', code: TYPE });
  });

  it('names unnamed parts by position, with an extension only when the type is obvious', () => {
    const decisions = judgeAttachments([
      file(null, undefined, 'image/png'),
      file('', undefined, 'application/pdf'),
      file(null, undefined, 'text/plain'),
      file(null, undefined, 'message/rfc822'),
      file(null, undefined, 'application/zip'),
      file('\u202E. .', undefined, 'image/png'),
    ]);
    expect(decisions.map((d) => d.fileName)).toEqual([
      'attachment-1.png', 'attachment-2.pdf', 'attachment-3.txt', 'attachment-4.eml', 'attachment-5', 'attachment-6.png',
    ]);
    expect(decisions.every((d) => d.status === 'accepted')).toBe(true);
    expect(judgeOne(null, PE, 'application/x-msdownload')).toMatchObject({ fileName: 'attachment-1', status: 'rejected', code: TYPE });
  });
});

describe('realExtension', () => {
  it('returns the deciding extension, lower-case and without the dot', () => {
    expect(realExtension('archive.tar.GZ')).toBe('gz');
    expect(realExtension('README')).toBeNull();
    expect(realExtension('trailing.')).toBeNull();
    expect(realExtension('virus.exe. ')).toBe('exe');
    expect(realExtension('invoice\u202Efdp.exe')).toBe('exe');
    expect(realExtension('C:\\fakepath\\Virus.EXE')).toBe('exe');
    expect(realExtension('release.v2/readme')).toBeNull();
    expect(realExtension('.exe')).toBe('exe');
  });
});

describe('sniffExecutable', () => {
  it('recognises each executable format', () => {
    expect(sniffExecutable(PE)).toBe('PE');
    expect(sniffExecutable(ELF)).toBe('ELF');
    for (const magic of [[0xfe, 0xed, 0xfa, 0xce], [0xfe, 0xed, 0xfa, 0xcf], [0xce, 0xfa, 0xed, 0xfe], [0xcf, 0xfa, 0xed, 0xfe]]) {
      expect(sniffExecutable(bytes(...magic, 0x07, 0x00, 0x00, 0x01))).toBe('Mach-O');
    }
    expect(sniffExecutable(bytes(0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x02))).toBe('Mach-O'); // fat, 2 architectures
    expect(sniffExecutable(LNK)).toBe('Windows shortcut');
  });

  it('leaves Java class files and ordinary content alone', () => {
    expect(sniffExecutable(bytes(0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x41))).toBeNull(); // Java 21 class file
    expect(sniffExecutable(bytes(0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x14))).toBeNull(); // 20 "architectures"
    expect(sniffExecutable(bytes(0xca, 0xfe, 0xba, 0xbe))).toBeNull();
    expect(sniffExecutable(Buffer.from('%PDF-1.7'))).toBeNull();
    expect(sniffExecutable(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBeNull(); // PNG
    expect(sniffExecutable(Buffer.from('M'))).toBeNull();
    expect(sniffExecutable(Buffer.alloc(0))).toBeNull();
  });
});

describe('judgeAttachments: content', () => {
  it('refuses executables under innocent names', () => {
    expect(judgeOne('photo.jpg', PE, 'image/jpeg')).toEqual({ fileName: 'photo.jpg', status: 'rejected', code: TYPE, reason: 'the file is a Windows executable (PE)' });
    expect(judgeOne('notes.txt', ELF)).toMatchObject({ status: 'rejected', code: TYPE, reason: 'the file is a Linux executable (ELF)' });
    expect(judgeOne('slides.key', bytes(0xcf, 0xfa, 0xed, 0xfe, 0x07, 0x00, 0x00, 0x01))).toMatchObject({ status: 'rejected', code: TYPE, reason: 'the file is a macOS executable (Mach-O)' });
    expect(judgeOne('contract.pdf', LNK)).toMatchObject({ status: 'rejected', code: TYPE, reason: 'the file is a Windows shortcut' });
  });

  it('accepts a Java class file', () => {
    expect(judgeOne('Main.class', bytes(0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x41, 0x00, 0x1d))).toEqual({ fileName: 'Main.class', status: 'accepted' });
  });
});

describe('judgeAttachments: count and size', () => {
  it('refuses the 26th attachment; inline images count like any other', () => {
    const files = Array.from({ length: 26 }, (_, i) => file(`image-${i + 1}.png`, Buffer.from('png'), 'image/png'));
    const decisions = judgeAttachments(files);
    expect(decisions.slice(0, 25).every((d) => d.status === 'accepted')).toBe(true);
    expect(decisions[25]).toEqual({ fileName: 'image-26.png', status: 'rejected', code: ATTACHMENT_CODES.tooMany, reason: 'more than 25 attachments' });
  });

  it('does not spend the budget on files refused by type', () => {
    const files = Array.from({ length: 25 }, (_, i) => file(`doc-${i + 1}.txt`));
    files.splice(3, 0, file('setup.exe'), file('photo.jpg', PE));
    const decisions = judgeAttachments(files);
    expect(decisions.filter((d) => d.status === 'accepted')).toHaveLength(25);
    expect(decisions.filter((d) => d.status === 'rejected').map((d) => d.fileName)).toEqual(['setup.exe', 'photo.jpg']);
  });

  it('refuses the file that crosses 6 MB and still accepts a later one that fits', () => {
    const decisions = judgeAttachments([
      file('a.pdf', Buffer.alloc(3 * MB)),
      file('b.pdf', Buffer.alloc(2 * MB)),
      file('c.pdf', Buffer.alloc(1.5 * MB)),
      file('d.pdf', Buffer.alloc(0.5 * MB)),
    ]);
    expect(decisions.map((d) => d.status)).toEqual(['accepted', 'accepted', 'rejected', 'accepted']);
    expect(decisions[2]).toEqual({ fileName: 'c.pdf', status: 'rejected', code: ATTACHMENT_CODES.fileSizeTooLarge, reason: 'over 6 MB of attachments in one email' });
  });

  it('accepts exactly 6 MB and refuses a single file over it', () => {
    expect(judgeAttachments([file('a.pdf', Buffer.alloc(4 * MB)), file('b.pdf', Buffer.alloc(2 * MB))]).map((d) => d.status)).toEqual(['accepted', 'accepted']);
    expect(judgeOne('huge.zip', Buffer.alloc(6 * MB + 1))).toMatchObject({ status: 'rejected', code: ATTACHMENT_CODES.fileSizeTooLarge });
  });

  it('applies custom limits', () => {
    const limits: AttachmentLimits = { maxCount: 2, maxTotalBytes: 1000, bannedExtensions: new Set(['zip']) };
    const decisions = judgeAttachments(
      [file('tool.exe'), file('archive.ZIP'), file('big.txt', Buffer.alloc(1001)), file('payload.txt', ELF), file('b.txt'), file('c.txt')],
      limits,
    );
    expect(decisions).toEqual([
      { fileName: 'tool.exe', status: 'accepted' },
      { fileName: 'archive.ZIP', status: 'rejected', code: TYPE, reason: '.zip files are not allowed' },
      { fileName: 'big.txt', status: 'rejected', code: ATTACHMENT_CODES.fileSizeTooLarge, reason: 'over 1000 bytes of attachments in one email' },
      { fileName: 'payload.txt', status: 'rejected', code: TYPE, reason: 'the file is a Linux executable (ELF)' },
      { fileName: 'b.txt', status: 'accepted' },
      { fileName: 'c.txt', status: 'rejected', code: ATTACHMENT_CODES.tooMany, reason: 'more than 2 attachments' },
    ]);
  });

  it('has frozen defaults', () => {
    expect(Object.isFrozen(DEFAULT_ATTACHMENT_LIMITS)).toBe(true);
    expect(Object.isFrozen(ATTACHMENT_CODES)).toBe(true);
    expect(DEFAULT_ATTACHMENT_LIMITS).toMatchObject({ maxCount: 25, maxTotalBytes: 6 * MB });
    expect(DEFAULT_ATTACHMENT_LIMITS.bannedExtensions.size).toBe(31);
  });
});

describe('judgeAttachments: hostile names', () => {
  it('keeps the base name only, whatever separators or encodings hide a path', () => {
    expect(judgeOne('../../../etc/passwd')).toEqual({ fileName: 'passwd', status: 'accepted' });
    expect(judgeOne('..\\..\\windows\\win.ini')).toEqual({ fileName: 'win.ini', status: 'accepted' });
    expect(judgeOne('%2e%2e%2fx.pdf')).toEqual({ fileName: 'x.pdf', status: 'accepted' });
    expect(judgeOne('%2E%2E%5Cboot.pdf')).toEqual({ fileName: 'boot.pdf', status: 'accepted' });
    expect(judgeOne('/etc/')).toEqual({ fileName: 'attachment-1', status: 'accepted' }); // a directory, not a file name
    // Nothing left of a name: a generated one, as for a part without a name.
    expect(judgeOne('/', Buffer.from('%PDF'), 'application/pdf')).toEqual({ fileName: 'attachment-1.pdf', status: 'accepted' });
    expect(judgeOne('..')).toEqual({ fileName: 'attachment-1', status: 'accepted' });
    expect(judgeOne('../..', Buffer.from('x'), 'text/plain')).toEqual({ fileName: 'attachment-1.txt', status: 'accepted' });
  });

  it('judges the extension after removing NTFS stream suffixes', () => {
    for (const name of ['x.exe::$DATA', 'x.exe:$DATA', 'x.EXE:Zone.Identifier:$DATA', 'x.exe.:stream', 'x.scr:', 'x.pdf:hidden.exe']) {
      expect(judgeOne(name), name).toMatchObject({ status: 'rejected', code: TYPE });
    }
    expect(realExtension('x.exe::$DATA')).toBe('exe');
    // A colon in an ordinary name (allowed on macOS and Linux) is not a stream that hides anything.
    expect(judgeOne('Meeting 10:30.pdf')).toEqual({ fileName: 'Meeting 10:30.pdf', status: 'accepted' });
  });

  it('caps names at 255 bytes on whole characters, keeping the extension', () => {
    const long = judgeOne(`${'a'.repeat(5000)}.pdf`)!;
    expect(long.fileName).toBe(`${'a'.repeat(251)}.pdf`);
    const wide = judgeOne(`${'é'.repeat(300)}.docx`)!;
    expect(Buffer.byteLength(wide.fileName)).toBeLessThanOrEqual(255);
    expect(wide.fileName).toMatch(/^é+\.docx$/);
    const emoji = judgeOne(`${'😀'.repeat(100)}.png`)!;
    expect(emoji.fileName).toMatch(/^(?:😀)+\.png$/u); // no half surrogate pair
    expect(Buffer.byteLength(emoji.fileName)).toBeLessThanOrEqual(255);
    // The banned extension survives the cut, so the rule still sees it.
    expect(judgeOne(`${'b'.repeat(5000)}.exe`)).toMatchObject({ fileName: `${'b'.repeat(251)}.exe`, status: 'rejected', code: TYPE });
    expect(judgeOne(`${'c'.repeat(300)}`)!.fileName).toBe('c'.repeat(255));
    expect(judgeOne('short.pdf')!.fileName).toBe('short.pdf');
  });
});
