/**
 * A small, bounded HTTP(S) GET for settings files: one deadline for the whole request
 * (redirects included), a size cap, at most a few redirects and only to http(s), and host
 * names resolved through the resolver discovery was given (so a test can point it at its own
 * DNS server, and the app uses the system's). Certificates are verified as always.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { err, migrationError, ok, type Result } from '../contract/result.js';

export interface FetchTextOptions {
  /** Resolves host names (node:net's `lookup` shape); absent: the system's resolver. */
  lookup?: LookupFunction;
  /** Deadline for the whole fetch, redirects included. */
  timeoutMs: number;
  /** Larger answers are refused. */
  maxBytes: number;
  maxRedirects: number;
  signal?: AbortSignal;
}

/** The body of a 200 answer, and the address it finally came from. */
export interface FetchedText {
  text: string;
  url: URL;
}

const getOnce = (url: URL, options: FetchTextOptions, signal: AbortSignal): Promise<Result<{ status: number; location?: string; text: string }>> =>
  new Promise((resolve) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.get(url, { lookup: options.lookup, signal, headers: { accept: 'application/xml, text/xml;q=0.9, */*;q=0.1' } }, (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        response.resume();
        resolve(ok({ status, location: response.headers.location, text: '' }));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          request.destroy();
          resolve(err(migrationError('bad-input', `The answer from ${url.host} is larger than ${options.maxBytes} bytes.`)));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve(ok({ status, text: Buffer.concat(chunks).toString('utf8') })));
      response.on('error', (e) => resolve(err(migrationError('network', `The answer from ${url.host} broke off: ${e.message}`, { retryable: true }))));
    });
    request.on('error', (e: NodeJS.ErrnoException) => {
      const kind = signal.aborted ? 'timeout' : 'network';
      resolve(err(migrationError(kind, `${url.host} could not be reached (${e.code ?? e.message}).`, { retryable: true })));
    });
  });

/** GETs `url`, following up to `maxRedirects` redirects to http(s) addresses. */
export const fetchText = async (url: URL, options: FetchTextOptions): Promise<Result<FetchedText>> => {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  let current = url;
  for (let redirects = 0; ; redirects += 1) {
    const answer = await getOnce(current, options, signal);
    if (!answer.ok) return answer;
    const { status, location, text } = answer.value;
    if (status === 200) return ok({ text, url: current });
    if (status >= 300 && status < 400 && location !== undefined && redirects < options.maxRedirects) {
      const next = new URL(location, current);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') return err(migrationError('bad-input', `${current.host} redirected to a ${next.protocol} address.`));
      current = next;
      continue;
    }
    return err(migrationError('not-found', `${current.host} answered ${status}.`));
  }
};
