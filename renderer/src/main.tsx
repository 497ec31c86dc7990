/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { MailferryBridge } from '../../src/contract/ipc.js';
import { connectBridgeEvents, createAppStore } from './store/store.js';
import { StoreProvider } from './store/context.js';
import { App } from './components/App.js';
// uPlot's own rules first, so ours can adjust them; both end up in the one stylesheet file (CSP: style-src 'self').
import 'uplot/dist/uPlot.min.css';
import './styles.css';

declare global {
  interface Window {
    mailferry: MailferryBridge;
  }
}

const store = createAppStore(window.mailferry);
connectBridgeEvents(store);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreProvider store={store}>
      <App />
    </StoreProvider>
  </StrictMode>,
);
