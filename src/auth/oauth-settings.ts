/**
 * Sign-in settings of the command line and the app: `oauth-clients.json` in Mailferry's settings folder, for
 * people (or IT departments) who register their own client IDs once instead of passing them on
 * every run. Only client registrations live there, never a token.
 *
 * ```json
 * { "google": { "clientId": "…apps.googleusercontent.com", "clientSecret": "…" },
 *   "microsoft": { "clientId": "…", "tenant": "contoso.onmicrosoft.com" },
 *   "https://login.example.org/realms/mail": { "clientId": "mailferry" } }
 * ```
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { err, migrationError, ok, type Result } from '../contract/result.js';

const clientSchema = z.strictObject({
  clientId: z.string().min(1).max(500),
  clientSecret: z.string().min(1).max(500).optional(),
  tenant: z.string().min(1).max(200).optional(),
});
const settingsSchema = z.record(z.string().min(1).max(2000), clientSchema);

/** Client registrations by provider: `google`, `microsoft`, or an issuer URL. */
export type OAuthClientSettings = Partial<Record<string, z.infer<typeof clientSchema>>>;

export const OAUTH_SETTINGS_FILE = 'oauth-clients.json';

/** Reads the settings file in `folder`; a missing file is no settings, a broken one is an error. */
export const readOAuthSettings = async (folder: string): Promise<Result<OAuthClientSettings>> => {
  const file = path.join(folder, OAUTH_SETTINGS_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return ok({});
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return err(migrationError('bad-input', `${file} is not valid JSON.`));
  }
  const checked = settingsSchema.safeParse(parsed);
  if (!checked.success) return err(migrationError('bad-input', `${file} is not in the expected form (${checked.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}).`));
  return ok(checked.data);
};
