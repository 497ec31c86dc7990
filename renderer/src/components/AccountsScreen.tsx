/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useAppStore } from '../store/context.js';
import { AccountCard } from './AccountCard.js';
import { ScreenTitle } from './ScreenTitle.js';
import { ActionBar } from './ActionBar.js';
import { SourceArchiveCard, SourceKindChoice } from './SourceChoice.js';

export function AccountsScreen() {
  const isRestore = useAppStore((s) => s.sourceKind === 'archive');
  const sourceOk = useAppStore((s) => (s.sourceKind === 'archive' ? s.sourceArchivePath !== null : s.accounts.source.test.state === 'ok'));
  const destinationOk = useAppStore((s) => s.accounts.destination.test.state === 'ok');
  const goTo = useAppStore((s) => s.goTo);
  const loadPlan = useAppStore((s) => s.loadPlan);
  const canContinue = sourceOk && destinationOk;

  return (
    <section className="screen" aria-labelledby="accounts-title">
      <div className="screen-intro">
        <ScreenTitle id="accounts-title">Where is your mail, and where should it go?</ScreenTitle>
        <p className="lead">
          Mailferry copies your mail from the old account (or an archive on this computer) to the new one. It only reads from where the mail
          is now and never deletes anything on either side.
        </p>
      </div>
      <SourceKindChoice />
      <div className="account-grid">
        {isRestore ? <SourceArchiveCard /> : <AccountCard role="source" title="Old account" subtitle="Mail is copied from here (read only)" />}
        <AccountCard role="destination" title="New account" subtitle="Mail is copied into here" />
      </div>
      <p className="batch-entry muted">
        Moving many mailboxes at once (IT staff)?{' '}
        <button type="button" className="button-link" onClick={() => goTo('batch')}>
          Open a users CSV instead
        </button>
      </p>
      <ActionBar
        summary={
          <p className={canContinue ? 'ok-line' : 'muted'} id="continue-hint">
            {canContinue
              ? isRestore
                ? 'The archive is chosen and the new account answered. Next, choose the folders to bring back.'
                : 'Both accounts answered. Next, choose the folders to keep.'
              : isRestore
                ? `Next: ${[sourceOk ? '' : 'choose the archive folder', destinationOk ? '' : 'test the new account'].filter(Boolean).join(' and ')}.`
                : `Next: test ${[sourceOk ? '' : 'the old account', destinationOk ? '' : 'the new account'].filter(Boolean).join(' and ')} (“Test connection”).`}
          </p>
        }
      >
        <button
          type="button"
          className="button primary"
          disabled={!canContinue}
          aria-describedby="continue-hint"
          onClick={() => {
            goTo('folders');
            void loadPlan();
          }}
        >
          Choose folders
        </button>
      </ActionBar>
    </section>
  );
}
