import net from 'node:net';

/**
 * The load generator's requests: HTTP/1.1 written and read straight on keep-alive sockets, one
 * request at a time per socket. It shares two cores with the server under test, and every CPU ms
 * it spends comes out of the server's share: fetch (undici) cost about 0.7 ms a request, node:http
 * 0.35 ms, this about a tenth of that. It reads what the server under test sends (a status line,
 * headers, a Content-Length or chunked body) and nothing more general.
 */

type Response = { status: number; body: Buffer };
type Pending = { resolve: (r: Response) => void; reject: (e: Error) => void };

class Connection {
  readonly socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: Pending | null = null;
  private readonly release: (c: Connection) => void;
  closed = false;

  constructor(host: string, port: number, release: (c: Connection) => void) {
    this.release = release;
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      this.read();
    });
    const fail = (err: Error) => {
      this.closed = true;
      this.pending?.reject(err);
      this.pending = null;
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('connection closed before the response ended')));
  }

  send(head: string, body: Buffer | undefined, pending: Pending): void {
    this.pending = pending;
    this.socket.write(body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head);
  }

  /** A whole response in the buffer completes the request in flight; a partial one waits for more data. */
  private read(): void {
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end < 0 || !this.pending) return;
    const head = this.buffered.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const header = (name: string) => new RegExp(`\r\n${name}:[ \t]*([^\r\n]*)`, 'i').exec(head)?.[1];
    let body: Buffer;
    let rest: Buffer;
    if (/chunked/i.test(header('transfer-encoding') ?? '')) {
      const parts: Buffer[] = [];
      let at = end + 4;
      for (;;) {
        const line = this.buffered.indexOf('\r\n', at);
        if (line < 0) return;
        const size = parseInt(this.buffered.toString('latin1', at, line), 16);
        if (this.buffered.length < line + 2 + size + 2) return;
        if (size === 0) {
          at = line + 4;
          break;
        }
        parts.push(this.buffered.subarray(line + 2, line + 2 + size));
        at = line + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      rest = this.buffered.subarray(at);
    } else {
      const length = Number(header('content-length') ?? 0);
      if (this.buffered.length < end + 4 + length) return;
      body = this.buffered.subarray(end + 4, end + 4 + length);
      rest = this.buffered.subarray(end + 4 + length);
    }
    this.buffered = rest;
    const pending = this.pending;
    this.pending = null;
    if (/close/i.test(header('connection') ?? '')) {
      this.closed = true;
      this.socket.end();
    } else {
      this.release(this);
    }
    pending.resolve({ status, body });
  }
}

const idle = new Map<string, Connection[]>();

export function request(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: Buffer | string): Promise<Response> {
  const { hostname, port, pathname, search, host } = new URL(url);
  const key = `${hostname}:${port}`;
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const head = `${method} ${pathname}${search} HTTP/1.1\r\nhost: ${host}\r\n${lines}${payload ? `content-length: ${payload.length}\r\n` : ''}\r\n`;
  return new Promise((resolve, reject) => {
    const free = idle.get(key) ?? [];
    idle.set(key, free);
    let connection = free.pop();
    while (connection?.closed) connection = free.pop();
    connection ??= new Connection(hostname, Number(port), (c) => free.push(c));
    connection.send(head, payload, { resolve, reject });
  });
}
