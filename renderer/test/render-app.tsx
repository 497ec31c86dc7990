/** @jsxRuntime automatic */
/** @jsxImportSource react */
import './setup-dom.js';
import { render } from '@testing-library/react';
import { App } from '../src/components/App.js';
import { StoreProvider } from '../src/store/context.js';
import { connectBridgeEvents, createAppStore, type AppStore } from '../src/store/store.js';
import { createFakeBridge, type FakeBridge, type FakeHandlers } from './fake-bridge.js';

/** A fresh store around a fresh fake bridge, rendered into the happy-dom document. */
export function renderApp(overrides: Partial<FakeHandlers> = {}): { store: AppStore; fake: FakeBridge; view: ReturnType<typeof render> } {
  const fake = createFakeBridge(overrides);
  const store = createAppStore(fake.bridge);
  connectBridgeEvents(store);
  const view = render(
    <StoreProvider store={store}>
      <App />
    </StoreProvider>,
  );
  return { store, fake, view };
}
