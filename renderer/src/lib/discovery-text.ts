/**
 * The sentence under the address field that says where the server settings came from: a known
 * provider, the domain's settings file, its DNS records or its mail exchanger, or nowhere.
 */
import type { DiscoveredServer } from '../../../src/contract/ipc.js';
import type { DiscoveryState } from '../store/types.js';

const hostOf = (address: string): string => {
  try {
    return new URL(address).host;
  } catch {
    return address;
  }
};

export function discoveredText(found: DiscoveredServer, domain: string): string {
  const provider = found.providerName ? ` for ${found.providerName}` : '';
  const caution = found.isUnencryptedLookup ? ' It came over an unencrypted connection, so check the server name before you connect.' : '';
  switch (found.method) {
    case 'autoconfig':
      return `Settings${provider} found in ${domain}’s own settings file (${hostOf(found.foundAt)}).${caution}`;
    case 'well-known':
      return `Settings${provider} found in the settings file on ${domain}’s website (${hostOf(found.foundAt)}).${caution}`;
    case 'srv':
      return `Settings found in ${domain}’s DNS records (${found.foundAt}).`;
    case 'mx':
      return found.preset
        ? `${domain}’s mail is handled by ${found.preset.name} (its mail server is ${found.mxHost}): ${found.preset.name}’s settings filled in.`
        : `${domain}’s mail is handled by ${found.mxHost}; settings${provider} found in that provider’s settings file (${hostOf(found.foundAt)}).${caution}`;
  }
}

/**
 * The line for a lookup in progress or one that found nothing; undefined when there is nothing
 * to say. `guessedHost` is the server Mailferry guessed, undefined when the person entered one.
 */
export function discoveryText(discovery: DiscoveryState, guessedHost: string | undefined): string | undefined {
  const domain = discovery.domain ?? 'this domain';
  if (discovery.state === 'looking') return `Looking up the server settings for ${domain}…`;
  if (discovery.state === 'found' && discovery.outcome?.found) return discoveredText(discovery.outcome.found, domain);
  if (discovery.state === 'none') {
    const next = guessedHost === undefined ? 'The server you entered is used.' : guessedHost === '' ? 'Enter the server under Server settings.' : `Mailferry guessed ${guessedHost}; check it under Server settings.`;
    return `No published settings for ${domain} (no settings file, DNS record or known mail provider). ${next}`;
  }
  return undefined;
}
