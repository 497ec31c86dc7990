import type { AppState } from './types.js';

/**
 * Asks main for a folder on this computer (its archive dialog); undefined when the person closed
 * it. A failure other than a cancelled dialog becomes the notice. Every archive the app names
 * comes from here: main accepts only folders its dialog returned.
 */
export async function askForFolder(get: () => AppState, set: (patch: Partial<AppState>) => void): Promise<string | undefined> {
  const result = await get().bridge.archiveChooseFolder();
  if (result.ok) return result.value.path;
  if (result.error.kind !== 'cancelled') set({ notice: { tone: 'error', text: result.error.message } });
  return undefined;
}
