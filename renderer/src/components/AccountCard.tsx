/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { AccountRole } from '../../../src/contract/ipc.js';
import type { Security } from '../../../src/contract/account.js';
import { useAppStore } from '../store/context.js';
import { PORT_FOR } from '../store/accounts-slice.js';
import { ErrorBox } from './ErrorBox.js';
import { Icon } from './Icons.js';
import { SignInField } from './SignInField.js';
import { providerLabel } from '../store/accounts-slice.js';
import { discoveredText, discoveryText } from '../lib/discovery-text.js';
import { ExternalLink } from './ExternalLink.js';
import { Fingerprint } from './Fingerprint.js';

/** Security in words first, the protocol's name after it for those who know it. */
const SECURITY_LABEL: Record<Security, string> = {
  tls: 'Encrypted (TLS)',
  starttls: 'Encrypted after connecting (STARTTLS)',
  plain: 'Not encrypted (unsafe)',
};
export const SECURITY_WORDS: Record<Security, string> = { tls: 'encrypted (TLS)', starttls: 'encrypted (STARTTLS)', plain: 'not encrypted' };

export function AccountCard({ role, title, subtitle }: { role: AccountRole; title: string; subtitle: string }) {
  const account = useAppStore((s) => s.accounts[role]);
  const setEmail = useAppStore((s) => s.setEmail);
  const update = useAppStore((s) => s.updateAccount);
  const lookupPreset = useAppStore((s) => s.lookupPreset);
  const saveAndTest = useAppStore((s) => s.saveAndTest);
  const trustCertificate = useAppStore((s) => s.trustCertificate);
  const setSignIn = useAppStore((s) => s.setSignIn);
  // The password stays in this field only until it is handed to main; the store never sees it.
  const [password, setPassword] = useState('');
  const [showAdvanced, setShowAdvanced] = useState(false);
  const id = useId();
  // A test's answer (and "Trust this certificate") is scrolled into view when it appears, above the action bar.
  const revealRef = useCallback((el: HTMLElement | null) => el?.scrollIntoView?.({ block: 'nearest' }), []);
  const { test } = account;
  const isTesting = test.state === 'testing';
  const hasSecret = account.signIn ? account.isSignedIn : password !== '' || account.hasPassword;
  const canTest = account.email.includes('@') && account.host.trim() !== '' && hasSecret && !isTesting;
  const isPlainRefused = account.security === 'plain' && !account.allowPlaintext;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!canTest || isPlainRefused) return;
    await saveAndTest(role, password === '' ? undefined : password);
  };
  // Once main has the password and it worked, the field lets go of it; after a failure it stays,
  // so a typo can be fixed without typing everything again.
  useEffect(() => {
    if (test.state === 'ok') setPassword('');
  }, [test.state]);
  const discoveryLine = account.preset ? undefined : discoveryText(account.discovery, account.isHostEdited ? undefined : account.host);

  return (
    <form className="card account-card" aria-labelledby={`${id}-title`} onSubmit={(e) => void submit(e)} data-role={role} noValidate>
      <div className="card-header">
        <h2 id={`${id}-title`}>{title}</h2>
        <p className="muted">{subtitle}</p>
      </div>

      <div className="field">
        <label htmlFor={`${id}-email`}>E-mail address</label>
        <input
          id={`${id}-email`}
          name="email"
          type="email"
          autoComplete="off"
          spellCheck={false}
          value={account.email}
          placeholder="you@example.com"
          onChange={(e) => setEmail(role, e.target.value)}
          onBlur={() => void lookupPreset(role)}
        />
        {account.preset && account.discovery.state !== 'found' && (
          <p className="hint" data-testid="preset">
            <Icon name="check" className="hint-icon" /> Settings for {account.preset.name} filled in.
          </p>
        )}
        {(discoveryLine !== undefined || (account.preset && account.discovery.state === 'found')) && (
          <p className="hint" data-testid="discovery" data-state={account.discovery.state} aria-live="polite">
            {account.discovery.state === 'looking' && <span className="spinner small-spinner" aria-hidden="true" />}
            {account.discovery.state === 'found' && <Icon name="check" className="hint-icon" />}
            {account.discovery.state === 'none' && <Icon name="warning" className="hint-icon warn" />}{' '}
            {account.discovery.state === 'found' && account.discovery.outcome?.found
              ? discoveredText(account.discovery.outcome.found, account.discovery.domain ?? '')
              : discoveryLine}
          </p>
        )}
      </div>

      <SignInField role={role} />

      {!account.signIn && (
      <div className="field">
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          id={`${id}-password`}
          name="password"
          type="password"
          autoComplete="off"
          value={password}
          placeholder={account.hasSavedPassword ? 'Saved on this computer — type to change it' : account.hasPassword ? 'Entered — type again to change it' : ''}
          onChange={(e) => setPassword(e.target.value)}
          aria-describedby={account.preset?.note ? `${id}-pwnote` : undefined}
        />
        {account.preset?.note && (
          <p className="hint" id={`${id}-pwnote`}>
            {account.preset.note}
            {account.preset.appPasswordUrl && (
              <>
                {' '}
                Create one at <ExternalLink href={account.preset.appPasswordUrl} />.
              </>
            )}
          </p>
        )}
        <label className="checkbox">
          <input type="checkbox" checked={account.rememberPassword} onChange={(e) => update(role, { rememberPassword: e.target.checked })} />
          Remember the password on this computer (stored encrypted)
        </label>
        {account.rememberPassword && account.cannotRemember && (
          <p className="hint" data-testid="cannot-remember">
            {account.cannotRemember}
          </p>
        )}
        <p className="small">
          {account.preset?.oauthProvider ? (
            <button type="button" className="button-link" onClick={() => setSignIn(role, { provider: account.preset!.oauthProvider!, clientId: '', tenant: '' })}>
              Sign in with {providerLabel(account.preset.oauthProvider)} instead
            </button>
          ) : (
            <button type="button" className="button-link" onClick={() => setSignIn(role, { provider: '', clientId: '', tenant: '' })}>
              Sign in through your organisation’s sign-in server (OAuth2) instead
            </button>
          )}
        </p>
      </div>
      )}

      <button type="button" className="button-link disclosure" aria-expanded={showAdvanced} onClick={() => setShowAdvanced(!showAdvanced)}>
        <Icon name="chevron" className={showAdvanced ? 'chevron open' : 'chevron'} />
        <span>
          Server settings
          {!showAdvanced && account.host !== '' && (
            <span className="muted">
              {' '}
              — {account.host}:{account.port}, {SECURITY_WORDS[account.security]}
            </span>
          )}
        </span>
      </button>

      {showAdvanced && (
        <div className="server-fields">
          <div className="field grow">
            <label htmlFor={`${id}-host`}>Server</label>
            <input id={`${id}-host`} name="host" spellCheck={false} value={account.host} placeholder="imap.example.com" onChange={(e) => update(role, { host: e.target.value, isHostEdited: true })} />
          </div>
          <div className="field port">
            <label htmlFor={`${id}-port`}>Port</label>
            <input
              id={`${id}-port`}
              name="port"
              inputMode="numeric"
              value={String(account.port)}
              onChange={(e) => {
                const port = Number.parseInt(e.target.value.replace(/\D/g, ''), 10);
                update(role, { port: Number.isFinite(port) ? Math.min(port, 65535) : 0 });
              }}
            />
          </div>
          <div className="field security">
            <label htmlFor={`${id}-security`}>Security</label>
            <select
              id={`${id}-security`}
              name="security"
              value={account.security}
              onChange={(e) => {
                const security = e.target.value as Security;
                update(role, { security, port: PORT_FOR[security] });
              }}
            >
              {(Object.keys(SECURITY_LABEL) as Security[]).map((s) => (
                <option key={s} value={s}>
                  {SECURITY_LABEL[s]}
                </option>
              ))}
            </select>
          </div>
          <div className="field full">
            <label htmlFor={`${id}-user`}>User name</label>
            <input
              id={`${id}-user`}
              name="user"
              spellCheck={false}
              value={account.user}
              onChange={(e) => update(role, { user: e.target.value, isUserEdited: e.target.value !== account.email })}
            />
          </div>
        </div>
      )}

      {account.security === 'plain' && (
        <div className="warning-box" role="note">
          <Icon name="warning" className="warning-icon" />
          <div>
            <p>
              <strong>Without encryption, your password and mail cross the network readable by anyone on the way.</strong> Use this only for a
              server on your own network.
            </p>
            <label className="checkbox">
              <input type="checkbox" checked={account.allowPlaintext} onChange={(e) => update(role, { allowPlaintext: e.target.checked })} />I
              understand; connect without encryption
            </label>
          </div>
        </div>
      )}

      <div className="card-actions">
        <button type="submit" className="button" disabled={!canTest || isPlainRefused}>
          {isTesting ? 'Testing…' : 'Test connection'}
        </button>
        <div className="test-result" aria-live="polite">
          {test.state === 'ok' && (
            <p className="ok" data-testid="test-ok" ref={revealRef}>
              <Icon name="check" className="ok-icon" /> Connected{test.check?.serverName ? ` to ${test.check.serverName}` : ''}, {SECURITY_WORDS[account.security]}.
            </p>
          )}
        </div>
      </div>

      {test.state === 'failed' && test.error && (
        <div className="test-failure" ref={revealRef}>
          <ErrorBox error={test.error} who={title}>
            {test.error.kind === 'auth' && !account.preset?.note && !account.signIn && (
              <p className="hint">Some providers need an app password instead of your usual one when two-step sign-in is on.</p>
            )}
            {test.error.kind === 'tls' && test.error.certificateFingerprint && (
              <div className="fingerprint">
                <p>The certificate’s SHA-256 fingerprint:</p>
                <Fingerprint value={test.error.certificateFingerprint} />
                <p className="small">Trust it only if it matches what your provider or administrator tells you.</p>
                <button type="button" className="button" onClick={() => void trustCertificate(role, test.error!.certificateFingerprint!)}>
                  Trust this certificate
                </button>
              </div>
            )}
          </ErrorBox>
        </div>
      )}
      {account.pinnedFingerprint && test.state !== 'failed' && (
        <div className="hint pinned">
          <p>
            <Icon name="lock" className="hint-icon" /> Trusting only the certificate with this fingerprint:
          </p>
          <Fingerprint value={account.pinnedFingerprint} />
        </div>
      )}
    </form>
  );
}
