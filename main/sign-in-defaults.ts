/**
 * Client registrations the app falls back on when an account's sign-in settings name none:
 * MAILFERRY_OAUTH_CLIENT_ID / MAILFERRY_OAUTH_CLIENT_SECRET / MAILFERRY_OAUTH_TENANT from the
 * environment, then `oauth-clients.json` in the app's settings folder (the same file the command
 * line reads). No `electron` import, so the tests run under plain Node.
 */
import { readOAuthSettings } from '../src/auth/oauth-settings.js';
import type { SignInDefaults } from '../src/service/account-sign-ins.js';

export async function signInDefaultsFrom(env: Record<string, string | undefined>, settingsFolder: string, log: (message: string) => void = () => undefined): Promise<SignInDefaults> {
  const settings = await readOAuthSettings(settingsFolder);
  if (!settings.ok) log(settings.error.message);
  const file = settings.ok ? settings.value : {};
  return (providerKey) => {
    const fromFile = file[providerKey];
    const clientId = env.MAILFERRY_OAUTH_CLIENT_ID ?? fromFile?.clientId;
    const clientSecret = env.MAILFERRY_OAUTH_CLIENT_SECRET ?? fromFile?.clientSecret;
    const tenant = env.MAILFERRY_OAUTH_TENANT ?? fromFile?.tenant;
    return { ...(clientId ? { clientId } : {}), ...(clientSecret ? { clientSecret } : {}), ...(tenant ? { tenant } : {}) };
  };
}
