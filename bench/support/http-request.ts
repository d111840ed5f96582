import http from 'node:http';

/**
 * The load generator's requests: node:http on keep-alive sockets. It shares two cores with the server
 * under test, and fetch (undici) cost it about twice the CPU per request, which came out of the
 * server's share.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export function request(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: Buffer | string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request(url, { method, agent, headers: { ...headers, ...length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
