import type { Logger } from 'pino';

/** Where the banner may go: a terminal, never the log stream. */
export type Terminal = { isTTY?: boolean; write(text: string): unknown };

export type FirstStartCredentials = { workspaceId: string; apiKey: string; inboundAddress: string; webhookSecret: string; inboundBasicAuth: string; url: string };

/**
 * The first start's credentials, shown once. stdout carries the JSON log lines, which end up in
 * log collectors, so the secrets go to stderr and only when it is a terminal; otherwise the log
 * names the file that holds them (mode 0600) and nothing more.
 */
export function announceFirstStart(c: FirstStartCredentials, file: string, logger: Logger, terminal: Terminal = process.stderr): void {
  if (!terminal.isTTY) {
    logger.info({ credentialsFile: file }, `first start: created the workspace "Default"; its API key, webhook secret and inbound basic auth are in ${file}`);
    return;
  }
  terminal.write(
    [
      '',
      'First start: created the workspace "Default". These credentials are shown once;',
      `they are also in ${file} (readable by you only).`,
      '',
      `  Workspace id:        ${c.workspaceId}`,
      `  API key:             ${c.apiKey}`,
      `  Inbound address:     ${c.inboundAddress}`,
      `  Webhook secret:      ${c.webhookSecret}`,
      `  Inbound basic auth:  ${c.inboundBasicAuth}`,
      '',
      `  Try it:  curl -H "Authorization: Bearer ${c.apiKey}" ${c.url}/v1/workspace`,
      '',
      '',
    ].join('\n'),
  );
}

/** INBOUND_BASIC_AUTH generated on a start that created no workspace (DATABASE_URL with a new DATA_DIR). */
export function announceGeneratedInboundAuth(inboundBasicAuth: string, secretsFile: string, logger: Logger, terminal: Terminal = process.stderr): void {
  if (!terminal.isTTY) {
    logger.info({ secretsFile }, `generated the inbound webhook credentials (INBOUND_BASIC_AUTH); they are in ${secretsFile}`);
    return;
  }
  terminal.write(`\nInbound webhook credentials (INBOUND_BASIC_AUTH), generated and kept in ${secretsFile}: ${inboundBasicAuth}\n\n`);
}
