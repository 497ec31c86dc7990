/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Fragment } from 'react';
import { fingerprintGroups } from '../lib/fingerprint.js';

/** A fingerprint that wraps only between groups of bytes (see lib/fingerprint.ts). */
export function Fingerprint({ value }: { value: string }) {
  return (
    <code className="fingerprint-value" data-testid="fingerprint">
      {fingerprintGroups(value).map((group, i) => (
        <Fragment key={i}>
          {i > 0 && <wbr />}
          <span className="fingerprint-group">{group}</span>
        </Fragment>
      ))}
    </code>
  );
}
