/** Registers happy-dom's window and document as globals for component tests (import first). */
import { GlobalRegistrator } from '@happy-dom/global-registrator';

if (!('document' in globalThis)) GlobalRegistrator.register({ url: 'http://localhost/', width: 1280, height: 900 });
// React's act() warnings are off unless this says we are in a test environment.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
