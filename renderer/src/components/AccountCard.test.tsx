/** @jsxRuntime automatic */
/** @jsxImportSource react */
import '../../test/setup-dom.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { act, cleanup, fireEvent, within } from '@testing-library/react';
import { renderApp } from '../../test/render-app.js';
import { authError, tlsError } from '../../test/fake-bridge.js';
import type { MigrationError } from '../../../src/contract/result.js';

afterEach(cleanup);

async function fillAndTest(role: 'source' | 'destination', email: string, password: string) {
  const form = document.querySelector(`form[data-role="${role}"]`) as HTMLElement;
  const q = within(form);
  await act(async () => {
    fireEvent.change(q.getByLabelText('E-mail address'), { target: { value: email } });
    fireEvent.blur(q.getByLabelText('E-mail address'));
  });
  act(() => {
    fireEvent.change(q.getByLabelText('Password'), { target: { value: password } });
  });
  await act(async () => {
    fireEvent.click(q.getByRole('button', { name: /^Server settings/ }));
  });
  if ((q.getByLabelText('Server') as HTMLInputElement).value === '') {
    act(() => {
      fireEvent.change(q.getByLabelText('Server'), { target: { value: 'imap.example.org' } });
    });
  }
  await act(async () => {
    fireEvent.click(q.getByRole('button', { name: 'Test connection' }));
  });
  return { form, q };
}

describe('Accounts', () => {
  test('a preset fills the server from the address; the password goes to main and leaves the renderer', async () => {
    const { store, fake } = renderApp();
    const { q } = await fillAndTest('source', 'someone@gmail.com', 's3cret-pw');
    assert.equal((q.getByLabelText('Server') as HTMLInputElement).value, 'imap.gmail.com');
    assert.match(q.getByTestId('preset').textContent!, /Gmail/);
    assert.match(q.getByLabelText('Password').getAttribute('aria-describedby') ? document.getElementById(q.getByLabelText('Password').getAttribute('aria-describedby')!)!.textContent! : '', /app password/);
    assert.equal((fake.callsTo('accounts:save')[0] as { password: string }).password, 's3cret-pw');
    assert.equal((q.getByLabelText('Password') as HTMLInputElement).value, '', 'the field is emptied');
    assert.equal(JSON.stringify(store.getState()).includes('s3cret-pw'), false, 'the store never holds it');
    assert.ok(q.getByTestId('test-ok'));
  });

  const cases: [string, MigrationError, RegExp][] = [
    ['wrong password', authError, /^New account: sign-in refused[\s\S]*refused the user name or password/],
    ['server not found', { kind: 'network', message: 'No server called imap.exmaple.org was found. Check the server name.', retryable: true }, /^New account: connection failed[\s\S]*No server called/],
    ['timeout', { kind: 'timeout', message: 'The server did not answer within 90 seconds.', retryable: true }, /^New account: no answer in time[\s\S]*did not answer within 90 seconds/],
  ];
  for (const [name, error, expected] of cases) {
    test(`test connection explains a ${name} in plain words`, async () => {
      renderApp({ 'accounts:test': () => ({ ok: false, error }) });
      const { q } = await fillAndTest('destination', 'me@example.org', 'pw');
      const alert = q.getByRole('alert');
      assert.match(alert.textContent!, expected);
      if (error.serverText) assert.match(alert.textContent!, /AUTHENTICATIONFAILED/);
      assert.equal(alert.getAttribute('data-error-kind'), error.kind);
      assert.equal((q.getByLabelText('Password') as HTMLInputElement).value, 'pw', 'after a failed test the password stays, to be corrected');
    });
  }

  test('a certificate problem shows the fingerprint; trusting pins exactly that certificate', async () => {
    let calls = 0;
    const { fake } = renderApp({ 'accounts:test': () => (calls++ === 0 ? { ok: false, error: tlsError } : { ok: true, value: { capabilities: [] } }) });
    const { q } = await fillAndTest('source', 'me@selfhosted.example', 'pw');
    assert.equal(q.getByTestId('fingerprint').textContent, tlsError.certificateFingerprint, 'the groups read as the whole fingerprint');
    assert.deepEqual([...q.getByTestId('fingerprint').querySelectorAll('.fingerprint-group')].map((g) => g.textContent!.replace(/:$/, '').split(':').length), [4, 4, 4, 4, 4, 4, 4, 4]);
    await act(async () => {
      fireEvent.click(q.getByRole('button', { name: 'Trust this certificate' }));
    });
    const saves = fake.callsTo('accounts:save') as { endpoint: { pinnedFingerprint?: string }; password?: string }[];
    assert.equal(saves[1]!.endpoint.pinnedFingerprint, tlsError.certificateFingerprint);
    assert.equal(saves[1]!.password, undefined, 'main keeps the password it already has');
    assert.ok(q.getByTestId('test-ok'));
  });

  test('continue is possible only when both accounts answered', async () => {
    const { view } = renderApp();
    const next = (): HTMLButtonElement => within(view.container).getByRole('button', { name: 'Choose folders' }) as HTMLButtonElement;
    assert.equal(next().disabled, true);
    await fillAndTest('source', 'a@example.org', 'pw');
    assert.equal(next().disabled, true);
    await fillAndTest('destination', 'b@example.org', 'pw');
    assert.equal(next().disabled, false);
  });

  test('on a computer that cannot keep the password encrypted, the form says why after saving', async () => {
    const why = 'No keyring (GNOME Keyring or KWallet) is running on this computer: a remembered password would be stored with a key anyone can read, so passwords and sign-ins are kept only until Mailferry closes.';
    renderApp({ 'accounts:save': (r) => ({ ok: true, value: { email: r.email, endpoint: r.endpoint, hasSavedPassword: false, cannotRemember: why } }) });
    const form = document.querySelector('form[data-role="source"]') as HTMLElement;
    act(() => {
      fireEvent.click(within(form).getByLabelText(/Remember the password/));
    });
    const { q } = await fillAndTest('source', 'me@example.org', 'pw');
    assert.equal(q.getByTestId('cannot-remember').textContent, why);
  });

  test('unencrypted needs an explicit yes', async () => {
    renderApp();
    const form = document.querySelector('form[data-role="source"]') as HTMLElement;
    const q = within(form);
    await act(async () => {
      fireEvent.change(q.getByLabelText('E-mail address'), { target: { value: 'a@lan.example' } });
      fireEvent.change(q.getByLabelText('Password'), { target: { value: 'pw' } });
      fireEvent.click(q.getByRole('button', { name: /^Server settings/ }));
    });
    act(() => {
      fireEvent.change(q.getByLabelText('Server'), { target: { value: 'mail.lan.example' } });
      fireEvent.change(q.getByLabelText('Security'), { target: { value: 'plain' } });
    });
    assert.equal((q.getByLabelText('Port') as HTMLInputElement).value, '143');
    assert.equal((q.getByRole('button', { name: 'Test connection' }) as HTMLButtonElement).disabled, true);
    act(() => {
      fireEvent.click(q.getByLabelText(/connect without encryption/));
    });
    assert.equal((q.getByRole('button', { name: 'Test connection' }) as HTMLButtonElement).disabled, false);
  });
});
