/**
 * Finds the IMAP server of an address that no preset knows, the way Thunderbird does, and says
 * where the answer came from:
 *   1. the domain's own settings file, `autoconfig.DOMAIN/mail/config-v1.1.xml`,
 *   2. the same file at `DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml`,
 *   3. DNS SRV records (RFC 6186): `_imaps._tcp.DOMAIN` (implicit TLS), then `_imap._tcp.DOMAIN`,
 *   4. the domain's mail exchanger (MX): a known provider's (Google, Microsoft, …) settings, or
 *      the settings file of the MX host's own domain.
 * Each file is asked for over HTTPS first, then HTTP. All steps start at once and the first of
 * them in that order that answers wins, so a slow step costs nothing when an earlier one answers;
 * every step has a deadline. Nothing is written anywhere and no failure is an error: a domain
 * that publishes nothing simply gives `found: null`.
 */
import { Resolver } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { domainToASCII } from 'node:url';
import type { DiscoveredServer, DiscoveryOutcome, ProviderPreset } from '../contract/ipc.js';
import type { Security } from '../contract/account.js';
import { ok, type Result } from '../contract/result.js';
import { isHostName, parseAutoconfig } from './autoconfig-xml.js';
import { fetchText } from './fetch-text.js';

/** A settings file's answer must come within this, redirects included. */
export const AUTOCONFIG_TIMEOUT_MS = 6_000;
/** One DNS question's deadline (per try). */
export const DNS_TIMEOUT_MS = 3_000;
const DNS_TRIES = 2;
/** Settings files are a few kilobytes; anything far larger is not one. */
const MAX_AUTOCONFIG_BYTES = 256 * 1024;
const MAX_REDIRECTS = 3;

export interface DiscoveryOptions {
  /** DNS servers to ask (`127.0.0.1:5353`); absent: the system's. Host names of settings files are resolved through them too. */
  dnsServers?: string[];
  /** Ports for settings files (tests serve them on a high port); absent: 443 and 80. */
  httpsPort?: number;
  httpPort?: number;
  /** The known provider an MX host belongs to (provider-presets.ts), or null. */
  presetForMxHost?(mxHost: string): ProviderPreset | null;
  signal?: AbortSignal;
}

type Step = Promise<DiscoveredServer | null>;

/** The address's domain in its ASCII (IDNA) form, or undefined when it is not a domain. */
export const domainOf = (email: string): string | undefined => {
  const at = email.trim().lastIndexOf('@');
  if (at < 1) return undefined;
  const domain = domainToASCII(email.trim().slice(at + 1).replace(/\.$/, '')).toLowerCase();
  return domain.includes('.') && isHostName(domain) ? domain : undefined;
};

/**
 * The registrable part of a host name, roughly: its last two labels, or three where the second
 * to last is a common second-level label under a country code (`mx.example.co.uk` → `example.co.uk`).
 */
export const baseDomainOf = (host: string): string => {
  const labels = host.toLowerCase().replace(/\.$/, '').split('.');
  const isCountrySecondLevel = labels.length >= 3 && labels.at(-1)!.length === 2 && ['co', 'com', 'net', 'org', 'ac', 'gov', 'edu', 'ne', 'or'].includes(labels.at(-2)!);
  return labels.slice(isCountrySecondLevel ? -3 : -2).join('.');
};

/** Looks up the server of `email`; never fails (a step that cannot answer is skipped). */
export const discoverServer = async (email: string, options: DiscoveryOptions = {}): Promise<Result<DiscoveryOutcome>> => {
  const domain = domainOf(email);
  const asked: string[] = [];
  if (domain === undefined) return ok({ found: null, asked });
  const address = email.trim();

  const resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: DNS_TRIES });
  if (options.dnsServers) resolver.setServers(options.dnsServers);
  const lookup: LookupFunction | undefined = options.dnsServers ? lookupThrough(resolver) : undefined;
  const signal = options.signal;

  /** A settings file at `host` + `path`: HTTPS first, then HTTP. */
  const settingsFile = async (host: string, path: string, method: 'autoconfig' | 'well-known', note?: Partial<DiscoveredServer>): Step => {
    for (const scheme of ['https', 'http'] as const) {
      const port = scheme === 'https' ? options.httpsPort : options.httpPort;
      const url = new URL(`${scheme}://${host}${port ? `:${port}` : ''}${path}`);
      url.searchParams.set('emailaddress', address);
      asked.push(`${url.origin}${url.pathname}`);
      const fetched = await fetchText(url, { lookup, timeoutMs: AUTOCONFIG_TIMEOUT_MS, maxBytes: MAX_AUTOCONFIG_BYTES, maxRedirects: MAX_REDIRECTS, signal });
      if (!fetched.ok) continue;
      const server = parseAutoconfig(fetched.value.text, address);
      if (!server.ok) continue;
      const { host: serverHost, port: serverPort, security, user, providerName } = server.value;
      const final = fetched.value.url;
      return {
        host: serverHost,
        port: serverPort,
        security,
        ...(user ? { user } : {}),
        method,
        foundAt: `${final.origin}${final.pathname}`,
        ...(final.protocol === 'http:' ? { isUnencryptedLookup: true } : {}),
        ...(providerName ? { providerName } : {}),
        ...note,
      };
    }
    return null;
  };

  /** RFC 6186: `_imaps._tcp` (implicit TLS) before `_imap._tcp` (STARTTLS). */
  const srv = async (): Step => {
    for (const [service, security] of [['_imaps._tcp', 'tls'], ['_imap._tcp', 'starttls']] as [string, Security][]) {
      const name = `${service}.${domain}`;
      asked.push(name);
      const records = await resolver.resolveSrv(name).catch(() => []);
      // A target of "." says the service is decidedly not offered (RFC 2782).
      const usable = records.filter((r) => r.name !== '' && r.name !== '.' && isHostName(r.name) && r.port > 0);
      const best = usable.sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
      if (best) return { host: best.name.toLowerCase(), port: best.port, security, method: 'srv', foundAt: name };
    }
    return null;
  };

  /** The MX host's provider: a preset we know, else the settings file of the MX host's own domain. */
  const mx = async (): Step => {
    asked.push(`MX ${domain}`);
    const records = await resolver.resolveMx(domain).catch(() => []);
    const exchange = records.filter((r) => isHostName(r.exchange)).sort((a, b) => a.priority - b.priority)[0]?.exchange.toLowerCase();
    if (exchange === undefined) return null;
    const preset = options.presetForMxHost?.(exchange) ?? null;
    if (preset) {
      return { host: preset.host, port: preset.port, security: preset.security, user: address, method: 'mx', foundAt: `MX ${domain}`, mxHost: exchange, providerName: preset.name, preset };
    }
    const mxDomain = baseDomainOf(exchange);
    if (mxDomain === domain) return null;
    return settingsFile(`autoconfig.${mxDomain}`, '/mail/config-v1.1.xml', 'autoconfig', { method: 'mx', mxHost: exchange });
  };

  // Started together, taken in order: a later step's answer counts only when every earlier one had none.
  const steps: Step[] = [
    settingsFile(`autoconfig.${domain}`, '/mail/config-v1.1.xml', 'autoconfig'),
    settingsFile(domain, '/.well-known/autoconfig/mail/config-v1.1.xml', 'well-known'),
    srv(),
    mx(),
  ].map((step) => step.catch(() => null));
  for (const step of steps) {
    const found = await step;
    if (found) {
      void Promise.allSettled(steps);
      return ok({ found, asked: [...asked] });
    }
  }
  return ok({ found: null, asked: [...asked] });
};

/** node:net's `lookup`, answered by `resolver` (A records): host names of settings files resolve where SRV and MX do. */
const lookupThrough =
  (resolver: Resolver): LookupFunction =>
  (hostname, options, callback) => {
    resolver.resolve4(hostname).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
          return;
        }
        if (options.all) (callback as unknown as (e: null, all: { address: string; family: number }[]) => void)(null, addresses.map((a) => ({ address: a, family: 4 })));
        else callback(null, addresses[0]!, 4);
      },
      (e: NodeJS.ErrnoException) => callback(e, '', 4),
    );
  };
