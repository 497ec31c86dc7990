/** @jsxRuntime automatic */
/** @jsxImportSource react */
import '../../test/setup-dom.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { renderApp } from '../../test/render-app.js';
import type { AccountRole, ProviderPreset, SavedAccount } from '../../../src/contract/ipc.js';
import type { JobEvent } from '../../../src/contract/job.js';

afterEach(cleanup);

const GMAIL: ProviderPreset = { id: 'gmail', name: 'Gmail', host: 'imap.gmail.com', port: 993, security: 'tls', oauthProvider: 'google', note: 'app passwords…' };

/** A fake main that signs in (or not) and remembers whether it holds a sign-in. */
function signInBridge() {
  let isSignedIn = false;
  const saved = (role: AccountRole): SavedAccount => ({ email: 'me@gmail.com', endpoint: { host: 'imap.gmail.com', port: 993, security: 'tls', user: 'me@gmail.com' }, hasSavedPassword: false, signIn: { provider: 'google', providerName: 'Google', isSignedIn } });
  return renderApp({
    'presets:lookup': () => ({ ok: true, value: GMAIL }),
    'accounts:save': (r) => ({ ok: true, value: saved(r.role) }),
    'accounts:signIn': (r) => {
      isSignedIn = true;
      return { ok: true, value: saved(r.role) };
    },
    'accounts:signOut': (r) => {
      isSignedIn = false;
      return { ok: true, value: saved(r.role) };
    },
  });
}

describe('Sign in with a provider', () => {
  test('a Gmail address offers "Sign in with Google" instead of a password; signing in goes through main, then the connection is tested', async () => {
    const { fake, store } = signInBridge();
    const form = document.querySelector('form[data-role="source"]') as HTMLElement;
    const q = within(form);
    await act(async () => {
      fireEvent.change(q.getByLabelText('E-mail address'), { target: { value: 'me@gmail.com' } });
      fireEvent.blur(q.getByLabelText('E-mail address'));
    });
    assert.equal(q.queryByLabelText('Password'), null, 'no password field');
    await act(async () => {
      fireEvent.click(q.getByRole('button', { name: 'Sign in with Google' }));
    });
    const save = fake.callsTo('accounts:save')[0] as { signIn?: unknown; password?: string };
    assert.deepEqual(save.signIn, { provider: 'google' });
    assert.equal(save.password, undefined);
    assert.deepEqual(fake.callsTo('accounts:signIn'), [{ role: 'source' }]);
    assert.equal(fake.callsTo('accounts:test').length, 1);
    assert.match(q.getByTestId('signed-in').textContent!, /Signed in at Google as me@gmail\.com\./);
    assert.ok(q.getByTestId('test-ok'));
    assert.equal(store.getState().accounts.source.isSignedIn, true);

    await act(async () => {
      fireEvent.click(q.getByRole('button', { name: 'Sign out' }));
    });
    assert.deepEqual(fake.callsTo('accounts:signOut'), [{ role: 'source' }]);
    assert.ok(q.getByRole('button', { name: 'Sign in with Google' }));
    act(() => {
      fireEvent.click(q.getByRole('button', { name: 'Use a password instead' }));
    });
    assert.ok(q.getByLabelText('Password'));
    assert.ok(q.getByRole('button', { name: 'Sign in with Google instead' }));
  });

  test('a refused sign-in pauses the move with "Sign in again and resume", which signs that account in and resumes', async () => {
    const app = signInBridge();
    await act(async () => {
      await app.store.getState().loadPlan();
      await app.store.getState().startJob();
    });
    const event: JobEvent = {
      type: 'job-status',
      jobId: 'job-1',
      status: 'paused',
      error: { kind: 'auth', message: 'Google refused the sign-in: the token has expired or was revoked — sign in again.', retryable: false, needsSignIn: 'destination' },
    };
    act(() => app.fake.emit(event));
    assert.match(screen.getByRole('alert').textContent!, /^New account: sign in again/);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Sign in again and resume' }));
    });
    assert.deepEqual(app.fake.callsTo('accounts:signIn'), [{ role: 'destination' }]);
    assert.deepEqual(app.fake.callsTo('jobs:resume'), [{ jobId: 'job-1' }]);
    assert.equal(screen.queryByTestId('sign-in-again'), null, 'the prompt is gone once the move goes on');
  });
});
