import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on loopback that keeps every message it is given; `refuseRecipients` (all) or `refuse` (these addresses) makes it answer 550. */
export async function startSmtpSink() {
  const received: Array<{ rcptTo: string[]; raw: Buffer }> = [];
  const control = { refuseRecipients: false, refuse: new Set<string>() };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (control.refuseRecipients || control.refuse.has(address.address)) return callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    control,
    received,
    parsed: (): Promise<ParsedMail[]> => Promise.all(received.map((r) => simpleParser(r.raw))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
