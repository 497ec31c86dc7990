/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { ReactNode } from 'react';
import type { MigrationError } from '../../../src/contract/result.js';
import { errorTitle, serverWords } from '../lib/errors.js';
import { Icon } from './Icons.js';

export function ErrorBox({ error, target, children }: { error: MigrationError; target?: 'account' | 'archive' | undefined; children?: ReactNode }) {
  const words = serverWords(error);
  return (
    <div className="error-box" role="alert" data-error-kind={error.kind}>
      <Icon name="warning" className="error-icon" />
      <div className="error-body">
        <p className="error-title">{errorTitle(error, target)}</p>
        <p>{error.message}</p>
        {words !== undefined && <p className="muted small">The server said: “{words}”</p>}
        {children}
      </div>
    </div>
  );
}
