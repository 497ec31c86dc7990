/**
 * Server settings of common mail providers, looked up from the address's domain. Data only;
 * notes say what a person must do on the provider's side (app passwords, enabling IMAP).
 */
import type { ProviderPreset } from '../contract/ipc.js';

/**
 * `mxDomains`: where the provider's mail exchangers live, so an own domain whose MX points there
 * (a company on Google Workspace or Microsoft 365) gets the provider's settings.
 */
const PRESETS: (ProviderPreset & { domains: string[]; mxDomains?: string[] })[] = [
  {
    id: 'gmail',
    name: 'Gmail',
    host: 'imap.gmail.com',
    port: 993,
    security: 'tls',
    domains: ['gmail.com', 'googlemail.com'],
    mxDomains: ['google.com', 'googlemail.com'],
    note: 'With 2-Step Verification on, Google needs an app password instead of your normal password.',
    appPasswordUrl: 'https://myaccount.google.com/apppasswords',
    oauthProvider: 'google',
  },
  {
    id: 'outlook',
    name: 'Outlook.com / Microsoft 365',
    host: 'outlook.office365.com',
    port: 993,
    security: 'tls',
    domains: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'outlook.de', 'hotmail.de', 'hotmail.co.uk', 'live.de'],
    mxDomains: ['outlook.com'],
    note: 'Microsoft may require IMAP to be enabled and sign-in through an app password.',
    oauthProvider: 'microsoft',
  },
  {
    id: 'yahoo',
    name: 'Yahoo Mail',
    host: 'imap.mail.yahoo.com',
    port: 993,
    security: 'tls',
    domains: ['yahoo.com', 'ymail.com', 'rocketmail.com', 'yahoo.co.uk', 'yahoo.de', 'yahoo.fr'],
    mxDomains: ['yahoodns.net'],
    note: 'Yahoo needs an app password generated in its account security settings.',
    appPasswordUrl: 'https://login.yahoo.com/account/security',
  },
  {
    id: 'icloud',
    name: 'iCloud Mail',
    host: 'imap.mail.me.com',
    port: 993,
    security: 'tls',
    domains: ['icloud.com', 'me.com', 'mac.com'],
    mxDomains: ['icloud.com'],
    note: 'iCloud needs an app-specific password (appleid.apple.com → Sign-In and Security).',
    appPasswordUrl: 'https://appleid.apple.com/account/manage',
  },
  {
    id: 'fastmail',
    name: 'Fastmail',
    host: 'imap.fastmail.com',
    port: 993,
    security: 'tls',
    domains: ['fastmail.com', 'fastmail.fm', 'fastmail.net', 'messagingengine.com'],
    mxDomains: ['messagingengine.com'],
    note: 'Fastmail needs an app password with IMAP access.',
    appPasswordUrl: 'https://app.fastmail.com/settings/security/apps',
  },
  {
    id: 'gmx',
    name: 'GMX',
    host: 'imap.gmx.net',
    port: 993,
    security: 'tls',
    domains: ['gmx.net', 'gmx.de', 'gmx.at', 'gmx.ch', 'gmx.com'],
    mxDomains: ['gmx.net'],
    note: 'IMAP access must be switched on in GMX settings (POP3 & IMAP).',
  },
  {
    id: 'zoho',
    name: 'Zoho Mail',
    host: 'imap.zoho.com',
    port: 993,
    security: 'tls',
    domains: ['zoho.com', 'zohomail.com'],
    mxDomains: ['zoho.com', 'zoho.eu'],
    note: 'IMAP access must be enabled in Zoho Mail settings; with two-factor sign-in use an app password. Paid or own-domain accounts use imappro.zoho.com.',
  },
  {
    id: 'aol',
    name: 'AOL Mail',
    host: 'imap.aol.com',
    port: 993,
    security: 'tls',
    domains: ['aol.com', 'aim.com'],
    note: 'AOL needs an app password generated in its account security settings.',
  },
];

/** The preset for an address's domain, or null for an unknown provider. */
export const lookupPreset = (email: string): ProviderPreset | null => {
  const domain = email.trim().toLowerCase().split('@')[1];
  if (!domain) return null;
  const found = PRESETS.find((p) => p.domains.includes(domain));
  if (!found) return null;
  return publicPart(found);
};

const publicPart = ({ domains: _domains, mxDomains: _mxDomains, ...preset }: (typeof PRESETS)[number]): ProviderPreset => preset;

/** The preset of the provider whose mail exchanger `mxHost` is (`aspmx.l.google.com` → Gmail), or null. */
export const presetForMxHost = (mxHost: string): ProviderPreset | null => {
  const host = mxHost.trim().toLowerCase().replace(/\.$/, '');
  const found = PRESETS.find((p) => p.mxDomains?.some((d) => host === d || host.endsWith(`.${d}`)));
  return found ? publicPart(found) : null;
};
