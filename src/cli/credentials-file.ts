import fs from 'node:fs/promises';
import path from 'node:path';
import { inboundAddress, type WorkspaceCredentials } from '../domain/workspaces.ts';

/** The keys `intake workspace create --json` prints. */
export function credentialsJson(created: WorkspaceCredentials, inboundDomain: string) {
  return {
    workspaceId: created.workspace.id,
    apiKey: created.apiKey,
    inboundAddress: inboundAddress(created.workspace, inboundDomain),
    webhookSecret: created.webhookSecret,
  };
}

/** DATA_DIR/credentials.json, readable by its owner only, so a newcomer can find the first credentials again. */
export async function writeCredentialsFile(dataDir: string, content: Record<string, string>): Promise<string> {
  const file = path.join(dataDir, 'credentials.json');
  await fs.writeFile(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
  return file;
}
