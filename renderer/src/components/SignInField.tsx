/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useId, useState } from 'react';
import type { AccountRole } from '../../../src/contract/ipc.js';
import { useAppStore } from '../store/context.js';
import { providerLabel } from '../store/accounts-slice.js';
import { ErrorBox } from './ErrorBox.js';
import { Icon } from './Icons.js';

/**
 * OAuth2 sign-in for an account, in place of the password field: "Sign in with Google" opens the
 * person's own browser (main does that), then shows who is signed in and offers to sign out.
 * No token ever reaches this component; it knows only whether main holds a sign-in.
 */
export function SignInField({ role }: { role: AccountRole }) {
  const account = useAppStore((s) => s.accounts[role]);
  const setSignIn = useAppStore((s) => s.setSignIn);
  const signIn = useAppStore((s) => s.signIn);
  const signOut = useAppStore((s) => s.signOut);
  const [showSettings, setShowSettings] = useState(false);
  const id = useId();
  const form = account.signIn;
  if (!form) return null;
  const isIssuer = form.provider !== 'google' && form.provider !== 'microsoft';
  const name = form.provider.trim() === '' ? 'your sign-in server' : providerLabel(form.provider);
  const isWaiting = account.signInState === 'waiting';
  const canSignIn = account.email.includes('@') && account.host.trim() !== '' && form.provider.trim() !== '' && !isWaiting;
  const who = (account.user || account.email).trim();

  return (
    <div className="field sign-in" data-testid="sign-in" data-signed-in={account.isSignedIn ? 'yes' : 'no'}>
      <span className="label">Sign-in</span>
      {isIssuer && !account.isSignedIn && (
        <div className="field">
          <label htmlFor={`${id}-issuer`}>Address of the sign-in server (issuer)</label>
          <input
            id={`${id}-issuer`}
            name="issuer"
            type="url"
            spellCheck={false}
            value={form.provider}
            placeholder="https://login.example.org/realms/mail"
            onChange={(e) => setSignIn(role, { ...form, provider: e.target.value })}
          />
        </div>
      )}
      {account.isSignedIn ? (
        <>
          <p className="ok" data-testid="signed-in">
            <Icon name="check" className="ok-icon" />
            <span>
              Signed in at {name} as <strong>{who}</strong>.
            </span>
            <button type="button" className="button-link" onClick={() => void signOut(role)}>
              Sign out
            </button>
          </p>
          {account.cannotRemember && (
            <p className="hint" data-testid="cannot-remember">
              {account.cannotRemember}
            </p>
          )}
        </>
      ) : (
        <>
          <button type="button" className="button primary" aria-disabled={!canSignIn} onClick={() => canSignIn && void signIn(role)}>
            {isWaiting ? 'Waiting for your browser…' : `Sign in with ${name}`}
          </button>
          <p className="hint" aria-live="polite">
            {isWaiting
              ? `Finish signing in to ${name} in your web browser, then come back here.`
              : `Your web browser opens ${name}'s own sign-in page. Mailferry never sees your password.`}
          </p>
        </>
      )}
      {account.signInState === 'failed' && account.signInError && <ErrorBox error={account.signInError} who={role === 'source' ? 'Old account' : 'New account'} />}
      <p className="small">
        <button type="button" className="button-link" onClick={() => setSignIn(role, null)}>
          Use a password instead
        </button>
        {' · '}
        <button type="button" className="button-link" aria-expanded={showSettings} onClick={() => setShowSettings(!showSettings)}>
          Sign-in settings
        </button>
      </p>
      {showSettings && (
        <div className="server-fields">
          <div className="field full">
            <label htmlFor={`${id}-client`}>Client ID of your app registration</label>
            <input
              id={`${id}-client`}
              name="clientId"
              spellCheck={false}
              value={form.clientId}
              placeholder="Empty: the one this computer is set up with"
              onChange={(e) => setSignIn(role, { ...form, clientId: e.target.value })}
            />
          </div>
          {form.provider === 'microsoft' && (
            <div className="field full">
              <label htmlFor={`${id}-tenant`}>Tenant (your organisation’s domain, or “common”)</label>
              <input id={`${id}-tenant`} name="tenant" spellCheck={false} value={form.tenant} placeholder="common" onChange={(e) => setSignIn(role, { ...form, tenant: e.target.value })} />
            </div>
          )}
        </div>
      )}
    </div>
  );
}
