import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Keeps `url` in DATA_DIR/credentials.json on the address this start listens on, so the file
 * stays right after a restart on another PORT. A missing or hand-edited unreadable file is left
 * alone: it only helps a newcomer find the first credentials.
 */
export async function followUrlInCredentials(dataDir: string, url: string): Promise<boolean> {
  const file = path.join(dataDir, 'credentials.json');
  let content: Record<string, unknown>;
  try {
    content = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return false;
  }
  if (typeof content !== 'object' || content === null || content.url === url) return false;
  await fs.writeFile(file, `${JSON.stringify({ ...content, url }, null, 2)}\n`, { mode: 0o600 });
  return true;
}
