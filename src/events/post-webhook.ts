import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';

/** Bytes of a receiver's answer read at most (as before with axios' maxContentLength). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

// A target's URL parsed once, not per POST (a process sends to a few URLs many times).
const TARGETS = new Map<string, { secure: boolean; options: http.RequestOptions }>();
function requestTarget(url: string) {
  let target = TARGETS.get(url);
  if (!target) {
    const parsed = new URL(url);
    if (TARGETS.size > 10_000) TARGETS.clear();
    TARGETS.set(url, (target = { secure: parsed.protocol === 'https:', options: urlToHttpOptions(parsed) }));
  }
  return target;
}

/**
 * One POST over a keep-alive agent, as Plain sends a webhook: no redirect followed, the status
 * returned whatever it is, the whole exchange bounded by `timeoutMs`. Plain node:http: on the hot
 * path a general HTTP client's per-request configuration merging costs more than the request.
 */
export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; agents: { http: http.Agent; https: https.Agent } },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = requestTarget(url);
    const req = (target.secure ? https : http).request({
      ...target.options,
      method: 'POST',
      agent: target.secure ? options.agents.https : options.agents.http,
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`timeout of ${options.timeoutMs}ms exceeded`), { code: 'ECONNABORTED' })), options.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) {
          // A receiver answering with more than a webhook's acknowledgement: failed, not buffered.
          clearTimeout(timer);
          res.destroy();
          reject(Object.assign(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`), { code: 'ERR_BAD_RESPONSE' }));
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    req.end(body);
  });
}
