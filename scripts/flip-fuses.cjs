/**
 * electron-builder's afterPack hook (electron-builder.yml `afterPack`): flips Electron's fuses in
 * the packaged binary, before it is signed, so the signature covers them. electron-builder 25
 * has no `electronFuses` setting (26 added it); an afterPack hook with @electron/fuses is the way
 * it documents for 25. A binary without a fuse wire fails the build: an app must not ship
 * unlocked by accident.
 *
 * CommonJS because electron-builder 25 loads hooks with require().
 */
const path = require('node:path');
const { flipFuses, FuseVersion, FuseV1Options } = require('@electron/fuses');
const { Arch } = require('electron-builder');

/** The fuses Mailferry sets, each with why. Unlisted ones keep Electron's default. */
const FUSES = {
  version: FuseVersion.V1,
  // ELECTRON_RUN_AS_NODE would turn the signed app into a plain Node that runs any script.
  [FuseV1Options.RunAsNode]: false,
  // The app keeps no cookies, but if Chromium ever writes some they are encrypted like Chrome's.
  [FuseV1Options.EnableCookieEncryption]: true,
  // NODE_OPTIONS could preload code (--require) into the main process.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  // --inspect and friends would open a debugger into the main process, which holds the passwords.
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // app.asar is checked against the hash built into the binary (macOS, Windows).
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  // Only app.asar is loaded, never an app/ folder dropped beside it.
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  // Not set, so Electron's defaults stay: LoadBrowserProcessSpecificV8Snapshot (off; the app
  // ships no such snapshot) and GrantFileProtocolExtraPrivileges (on: the window loads the built
  // renderer from file://, and its module scripts need it; nothing else is loaded from file://,
  // and navigation elsewhere is refused, see main/lock-down.ts).
};

/** Where the Electron binary of the packed app is, per platform. */
const executableOf = (context) => {
  const { appOutDir, electronPlatformName, packager } = context;
  const name = packager.appInfo.productFilename;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas') return path.join(appOutDir, `${name}.app`);
  if (electronPlatformName === 'win32') return path.join(appOutDir, `${name}.exe`);
  return path.join(appOutDir, packager.executableName);
};

module.exports = async function flipElectronFuses(context) {
  // An arm64 macOS binary needs its ad-hoc signature again after the bytes changed.
  const resetAdHocDarwinSignature = context.electronPlatformName === 'darwin' && context.arch === Arch.arm64;
  await flipFuses(executableOf(context), { ...FUSES, resetAdHocDarwinSignature });
};
module.exports.FUSES = FUSES;
