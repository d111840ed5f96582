
/** A file as an email or an import brings it: the rules judge its name, type and bytes. */
export type AttachmentFile = { fileName: string | null; contentType: string; content: Buffer };

/** Codes stored on refused attachments; the API and the agent UI key their messages on them. */
export const ATTACHMENT_CODES = Object.freeze({
  fileTypeNotAllowed: 'attachment_file_type_not_allowed',
  fileSizeTooLarge: 'attachment_file_size_too_large',
  tooMany: 'attachment_count_exceeded',
} as const);

/** `bannedExtensions` holds lower-case extensions without the dot (`exe`, not `.EXE`). */
export type AttachmentLimits = { maxCount: number; maxTotalBytes: number; bannedExtensions: ReadonlySet<string> };

export type AttachmentDecision =
  | { fileName: string; status: 'accepted' }
  | { fileName: string; status: 'rejected'; code: string; reason: string };

export type ExecutableKind = 'PE' | 'ELF' | 'Mach-O' | 'Windows shortcut';

const MB = 1024 * 1024;

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = Object.freeze({
  maxCount: 25,
  maxTotalBytes: 6 * MB,
  bannedExtensions: new Set([
    'bat', 'bin', 'chm', 'com', 'cpl', 'crt', 'exe', 'hlp', 'hta', 'inf', 'ins', 'isp', 'jse', 'lnk', 'mdb',
    'msc', 'msi', 'msp', 'mst', 'pcd', 'pif', 'reg', 'scr', 'sct', 'shs', 'vba', 'vbe', 'vbs', 'wsf', 'wsh', 'wsl',
  ]) as ReadonlySet<string>,
});

/** Extensions for unnamed parts, only where the content type leaves no doubt. */
const EXTENSION_BY_CONTENT_TYPE: Readonly<Record<string, string>> = Object.freeze({
  'image/png': '.png',
  'application/pdf': '.pdf',
  'text/plain': '.txt',
  'message/rfc822': '.eml',
});

const EXECUTABLE_REASONS: Readonly<Record<ExecutableKind, string>> = Object.freeze({
  'PE': 'the file is a Windows executable (PE)',
  'ELF': 'the file is a Linux executable (ELF)',
  'Mach-O': 'the file is a macOS executable (Mach-O)',
  'Windows shortcut': 'the file is a Windows shortcut',
});

// Format characters (bidi overrides and isolates, zero-width joiners, the BOM, ...) are invisible
// or reorder what the reader sees: `invoice\u202Efdp.exe` displays as "invoiceexe.pdf". All of
// \p{Cf} goes, a superset of the usual bidi list; control characters are not valid in names either.
const INVISIBLE = /[\p{Cf}\p{Cc}]/gu;

/** Longest stored name, in UTF-8 bytes: what ext4, NTFS (in UTF-16 units, fewer) and APFS all hold. */
export const MAX_FILE_NAME_BYTES = 255;
// An extension longer than this is not one worth keeping whole when a name is cut.
const MAX_KEPT_EXTENSION = 32;

/** The name as the operating system will treat it, base name only; may be empty. */
function cleanName(raw: string): string {
  // C string APIs stop at NUL, so `evil.exe\0.jpg` is saved as evil.exe.
  const nul = raw.indexOf('\0');
  let name = nul === -1 ? raw : raw.slice(0, nul);
  // Percent-encoded separators and dots (`%2e%2e%2fx.pdf`) become a path wherever a name is decoded again.
  name = name.replace(/%2e/gi, '.').replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
  // No directories: `../../../etc/passwd` is `passwd`, `C:\fakepath\a.pdf` is `a.pdf`.
  name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  // Windows drops trailing dots and spaces: `virus.exe. ` is virus.exe.
  name = name.replace(INVISIBLE, '').trim().replace(/[\s.]+$/u, '');
  // `.` and `..` alone name directories, not files.
  return /^\.+$/.test(name) ? '' : capLength(name);
}

/** Cut to MAX_FILE_NAME_BYTES on whole characters, keeping the extension. */
function capLength(name: string): string {
  if (Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= MAX_KEPT_EXTENSION + 1 ? name.slice(dot) : '';
  let budget = MAX_FILE_NAME_BYTES - Buffer.byteLength(extension);
  let stem = '';
  for (const char of name.slice(0, name.length - extension.length)) {
    budget -= Buffer.byteLength(char);
    if (budget < 0) break;
    stem += char;
  }
  return stem + extension;
}

function extensionOf(name: string): string | null {
  const dot = name.lastIndexOf('.');
  // A leading dot counts too: `.exe` is refused rather than taken for a hidden file.
  if (dot === -1 || dot === name.length - 1) return null;
  return name.slice(dot + 1).toLowerCase();
}

/** The extension that decides how the file opens: lower-case, without the dot; null when none. */
export function realExtension(fileName: string): string | null {
  const name = cleanName(fileName);
  // NTFS alternate data streams: `x.exe::$DATA` and `x.exe:Zone.Identifier` are the file x.exe.
  const colon = name.indexOf(':');
  return colon === -1 ? extensionOf(name) : extensionOf(name.slice(0, colon).replace(/[\s.]+$/u, ''));
}

/** Every extension a name could be opened by: the file's own and, with a stream suffix, the last one. */
function candidateExtensions(fileName: string): string[] {
  const name = cleanName(fileName);
  return [...new Set([realExtension(fileName), extensionOf(name)].filter((e): e is string => e !== null))];
}

const MACH_O_MAGICS: ReadonlySet<number> = new Set([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe]);
const FAT_MAGICS: ReadonlySet<number> = new Set([0xcafebabe, 0xcafebabf]);
const LNK_HEADER = Buffer.from([0x4c, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00]);

/** What kind of executable the bytes are, whatever the file is called; null when none. */
export function sniffExecutable(content: Buffer): ExecutableKind | null {
  if (content.length >= 2 && content[0] === 0x4d && content[1] === 0x5a) return 'PE'; // "MZ"
  if (content.length >= 4) {
    const magic = content.readUInt32BE(0);
    if (magic === 0x7f454c46) return 'ELF';
    if (MACH_O_MAGICS.has(magic)) return 'Mach-O';
    // Universal binaries share CAFEBABE with Java class files. There the next word is the class
    // file version (major >= 45, so the word is >= 45); here it is the architecture count.
    if (FAT_MAGICS.has(magic) && content.length >= 8) {
      const architectures = content.readUInt32BE(4);
      if (architectures >= 1 && architectures <= 19) return 'Mach-O';
    }
  }
  if (content.length >= LNK_HEADER.length && content.subarray(0, LNK_HEADER.length).equals(LNK_HEADER)) return 'Windows shortcut';
  return null;
}

function displayName(fileName: string | null, contentType: string, position: number): string {
  const cleaned = fileName === null ? '' : cleanName(fileName);
  if (cleaned !== '') return cleaned;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return `attachment-${position}${EXTENSION_BY_CONTENT_TYPE[type] ?? ''}`;
}

function formatSize(bytes: number): string {
  if (bytes >= MB) return `${Number((bytes / MB).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KB`;
  return `${bytes} bytes`;
}

/**
 * One decision per attachment, in order. Type rules come first; the count and size budgets are
 * then spent in order by accepted files only, so a refused executable costs nothing and a small
 * file after an oversized one can still fit.
 */
export function judgeAttachments(
  attachments: ReadonlyArray<AttachmentFile>,
  limits: AttachmentLimits = DEFAULT_ATTACHMENT_LIMITS,
): AttachmentDecision[] {
  const decisions: AttachmentDecision[] = [];
  let acceptedCount = 0;
  let acceptedBytes = 0;
  for (const [index, attachment] of attachments.entries()) {
    const fileName = displayName(attachment.fileName, attachment.contentType, index + 1);
    const reject = (code: string, reason: string): void => {
      decisions.push({ fileName, status: 'rejected', code, reason });
    };
    const extension = candidateExtensions(fileName).find((e) => limits.bannedExtensions.has(e));
    const executable = sniffExecutable(attachment.content);
    if (extension !== undefined) {
      reject(ATTACHMENT_CODES.fileTypeNotAllowed, `.${extension} files are not allowed`);
    } else if (executable !== null) {
      reject(ATTACHMENT_CODES.fileTypeNotAllowed, EXECUTABLE_REASONS[executable]);
    } else if (acceptedCount + 1 > limits.maxCount) {
      reject(ATTACHMENT_CODES.tooMany, `more than ${limits.maxCount} attachment${limits.maxCount === 1 ? '' : 's'}`);
    } else if (acceptedBytes + attachment.content.length > limits.maxTotalBytes) {
      reject(ATTACHMENT_CODES.fileSizeTooLarge, `over ${formatSize(limits.maxTotalBytes)} of attachments in one email`);
    } else {
      acceptedCount += 1;
      acceptedBytes += attachment.content.length;
      decisions.push({ fileName, status: 'accepted' });
    }
  }
  return decisions;
}
