/**
 * Runs Electronegativity (its library entry point, which reports files it could not parse; the
 * command line does not when writing a file) over a folder and writes what it found as JSON.
 *
 *   node electronegativity-scan.cjs INPUT_DIR ELECTRON_VERSION OUT_FILE
 *
 * AvailableSecurityFixesGlobalCheck is left out: it downloads Electron's release list from
 * GitHub, which a test may not reach; the Electron version is pinned in package.json and raised
 * deliberately.
 */
const { writeFileSync } = require('node:fs');
const run = require('@doyensec/electronegativity');

const [input, electronVersion, outFile] = process.argv.slice(2);
run({ input, electronVersionOverride: electronVersion, excludeFromScan: ['AvailableSecurityFixesGlobalCheck'], isRelative: true }).then(
  (result) => {
    const issues = result.issues.map((i) => ({
      check: i.id,
      severity: i.severity.name,
      confidence: i.confidence.name,
      file: i.file,
      line: i.location.line,
      sample: String(i.sample ?? ''),
      description: i.description,
    }));
    writeFileSync(outFile, JSON.stringify({ globalChecks: result.globalChecks, atomicChecks: result.atomicChecks, errors: result.errors, issues }));
    process.exit(0);
  },
  (e) => {
    process.stderr.write(`${e && e.stack ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
