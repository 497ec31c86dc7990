/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useAppStore } from '../store/context.js';
import { AccountCard } from './AccountCard.js';
import { ScreenTitle } from './ScreenTitle.js';
import { ActionBar } from './ActionBar.js';
import { DestinationArchiveCard, DestinationKindChoice, SourceArchiveCard, SourceKindChoice } from './LocationChoice.js';

/** What is still missing before the folders can be chosen, in the order of the cards. */
function nextSteps(isRestore: boolean, isArchiveOnly: boolean, sourceOk: boolean, destinationOk: boolean): string {
  const isTestingBoth = !sourceOk && !destinationOk && !isRestore && !isArchiveOnly;
  if (isTestingBoth) return 'Next: test the old account and the new account (“Test connection”).';
  const steps = [
    sourceOk ? '' : isRestore ? 'choose the archive folder' : 'test the old account (“Test connection”)',
    destinationOk ? '' : isArchiveOnly ? 'choose the folder to save to' : 'test the new account (“Test connection”)',
  ].filter(Boolean);
  return `Next: ${steps.join(' and ')}.`;
}

export function AccountsScreen() {
  const isRestore = useAppStore((s) => s.sourceKind === 'archive');
  // Saving to this computer only: no new account (a restore always goes to one).
  const isArchiveOnly = useAppStore((s) => s.sourceKind === 'account' && s.destinationKind === 'archive');
  const sourceOk = useAppStore((s) => (s.sourceKind === 'archive' ? s.sourceArchivePath !== null : s.accounts.source.test.state === 'ok'));
  const destinationOk = useAppStore((s) => (s.sourceKind === 'account' && s.destinationKind === 'archive' ? s.destinationArchivePath !== null : s.accounts.destination.test.state === 'ok'));
  const goTo = useAppStore((s) => s.goTo);
  const loadPlan = useAppStore((s) => s.loadPlan);
  const canContinue = sourceOk && destinationOk;

  return (
    <section className="screen" aria-labelledby="accounts-title">
      <div className="screen-intro">
        <ScreenTitle id="accounts-title">Where is your mail, and where should it go?</ScreenTitle>
        <p className="lead">
          Mailferry copies your mail from the old account (or an archive on this computer) to the new one, or saves it to this computer. It only
          reads from where the mail is now and never deletes anything on either side.
        </p>
      </div>
      <div className="location-kinds">
        <SourceKindChoice />
        {!isRestore && <DestinationKindChoice />}
      </div>
      <div className="account-grid">
        {isRestore ? <SourceArchiveCard /> : <AccountCard role="source" title="Old account" subtitle="Mail is copied from here (read only)" />}
        {isArchiveOnly ? <DestinationArchiveCard /> : <AccountCard role="destination" title="New account" subtitle="Mail is copied into here" />}
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
                : isArchiveOnly
                  ? 'The old account answered and the folder to save to is chosen. Next, choose the folders to keep.'
                  : 'Both accounts answered. Next, choose the folders to keep.'
              : nextSteps(isRestore, isArchiveOnly, sourceOk, destinationOk)}
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
