/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useEffect } from 'react';
import { useAppStore } from '../store/context.js';
import { TERMINAL_JOB_STATUSES, type Screen } from '../store/types.js';
import { Icon } from './Icons.js';
import { AccountsScreen } from './AccountsScreen.js';
import { FoldersScreen } from './FoldersScreen.js';
import { MoveScreen } from './MoveScreen.js';
import { ReportScreen } from './ReportScreen.js';
import { BatchScreen } from './BatchScreen.js';
import { ResumeBanner } from './ResumeBanner.js';
import { Notice } from './Notice.js';

const STEPS: { screen: Screen; label: string }[] = [
  { screen: 'accounts', label: 'Accounts' },
  { screen: 'folders', label: 'Choose folders' },
  { screen: 'copying', label: 'Move' },
  { screen: 'report', label: 'Report' },
];

/** What e2e tests wait on: the screen, and on the Move screen whether the job has finished. */
export function useAppStateName(): string {
  const screen = useAppStore((s) => s.screen);
  const jobStatus = useAppStore((s) => s.jobStatus);
  const batchState = useAppStore((s) => s.batchState);
  if (screen === 'copying' && jobStatus !== null && TERMINAL_JOB_STATUSES.has(jobStatus)) return 'done';
  // The batch screen: `batch-idle`, `batch-ready`, `batch-invalid`, `batch-running`, `batch-finished`…
  if (screen === 'batch') return `batch-${batchState}`;
  return screen;
}

export function App() {
  const screen = useAppStore((s) => s.screen);
  const jobStatus = useAppStore((s) => s.jobStatus);
  const init = useAppStore((s) => s.init);
  const appState = useAppStateName();
  const currentStep = STEPS.findIndex((s) => s.screen === screen);

  useEffect(() => {
    void init();
  }, [init]);

  return (
    <div className="app" data-app-state={appState} data-job-status={jobStatus ?? ''}>
      <header className="app-header">
        <div className="brand">
          <Icon name="ferry" className="brand-icon" />
          <span className="brand-name">Mailferry</span>
        </div>
        {screen === 'batch' ? (
          <p className="header-mode">Many mailboxes</p>
        ) : (
          <nav aria-label="Steps">
            <ol className="steps">
              {STEPS.map((step, index) => (
                <li
                  key={step.screen}
                  className={index === currentStep ? 'step current' : index < currentStep ? 'step done' : 'step'}
                  aria-current={index === currentStep ? 'step' : undefined}
                >
                  <span className="step-number" aria-hidden="true">
                    {index < currentStep ? <Icon name="check" /> : index + 1}
                  </span>
                  {step.label}
                </li>
              ))}
            </ol>
          </nav>
        )}
      </header>
      {/* The main area scrolls by itself under a fixed header, so each screen's action bar can stick to the window's bottom. */}
      <main className="app-main" data-screen={screen}>
        <div className="app-content">
          <ResumeBanner />
          <Notice />
          {screen === 'accounts' && <AccountsScreen />}
          {screen === 'folders' && <FoldersScreen />}
          {screen === 'copying' && <MoveScreen />}
          {screen === 'report' && <ReportScreen />}
          {screen === 'batch' && <BatchScreen />}
        </div>
      </main>
    </div>
  );
}
