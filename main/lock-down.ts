/**
 * Refuses everything a page could do to leave Mailferry's own renderer: navigating elsewhere,
 * being redirected, opening windows, attaching a webview. Applied to every WebContents main creates.
 * Takes the shape of Electron's WebContents rather than importing electron, so tests run in Node.
 */
export interface PreventableEvent {
  preventDefault(): void;
}

export interface LockableContents {
  on(event: 'will-navigate' | 'will-redirect' | 'will-attach-webview' | 'will-frame-navigate', listener: (event: PreventableEvent, ...args: unknown[]) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export function lockDown(contents: LockableContents): void {
  const refuse = (event: PreventableEvent): void => event.preventDefault();
  contents.on('will-navigate', refuse);
  contents.on('will-frame-navigate', refuse);
  contents.on('will-redirect', refuse);
  contents.on('will-attach-webview', refuse);
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
