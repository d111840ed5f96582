import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Received = { path: string; headers: http.IncomingHttpHeaders; body: string; at: number };

/**
 * A real HTTP receiver on loopback. Paths choose behaviour: /ok answers 200, /flaky/N fails N
 * times with 500 then answers 200, /redirect answers 301, /gone 410, /hang never answers.
 */
export async function startWebhookReceiver() {
  const received: Received[] = [];
  const failures = new Map<string, number>();
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body, at: Date.now() });
      const flaky = /^\/flaky\/(\d+)/.exec(path);
      if (flaky) {
        const seen = failures.get(path) ?? 0;
        failures.set(path, seen + 1);
        res.statusCode = seen < Number(flaky[1]) ? 500 : 200;
        return res.end(res.statusCode === 200 ? 'ok' : 'boom');
      }
      if (path.startsWith('/redirect')) {
        res.writeHead(301, { location: '/ok' });
        return res.end();
      }
      if (path.startsWith('/gone')) {
        res.statusCode = 410;
        return res.end();
      }
      if (path.startsWith('/hang')) return void hanging.add(res);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    on: (path: string) => received.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
