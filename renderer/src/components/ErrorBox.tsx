/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { ReactNode } from 'react';
import type { MigrationError } from '../../../src/contract/result.js';
import { errorHeading, serverWords } from '../lib/errors.js';
import { Icon } from './Icons.js';

/**
 * An error with a heading that names the account it is about and the kind of trouble, the
 * engine's sentence, and the server's own words when they add something.
 */
export function ErrorBox({
  error,
  target,
  who,
  isRestore,
  children,
}: {
  error: MigrationError;
  target?: 'account' | 'archive' | undefined;
  /** Which account this is about, when the place it is shown says it ("Old account"). */
  who?: string | undefined;
  isRestore?: boolean;
  children?: ReactNode;
}) {
  const words = serverWords(error);
  return (
    <div className="error-box" role="alert" data-error-kind={error.kind}>
      <Icon name="warning" className="error-icon" />
      <div className="error-body">
        <p className="error-title">{errorHeading(error, { target, isRestore, ...(who ? { who } : {}) })}</p>
        <p>{error.message}</p>
        {words !== undefined && <p className="muted small">The server said: “{words}”</p>}
        {children}
      </div>
    </div>
  );
}
