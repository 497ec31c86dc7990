/**
 * The Node.js version check of `npm start` and the `mailferry` command: package.json's
 * `engines.node` is the one statement of what we need (it is the range every dependency
 * supports), and a Node outside it gets one sentence saying so instead of a stack trace from
 * deep inside a dependency.
 *
 * Written without syntax newer than Node 12 (no `??`, no `?.`) so that a too-old Node can still
 * run it and say what is wrong. Understands the comparators package.json uses: `^X.Y.Z`,
 * `>=X.Y.Z`, joined by `||`.
 */
import { readFileSync } from 'node:fs';

const PACKAGE_JSON = new URL('../package.json', import.meta.url);

/** @param {string} text @returns {[number, number, number] | undefined} */
const parseVersion = (text) => {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
};

/** @param {[number, number, number]} a @param {[number, number, number]} b */
const compare = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * One `||` alternative (sameMajor: a caret range stays on its major), or undefined if not understood.
 * @param {string} text
 * @returns {{ lowest: [number, number, number], sameMajor: boolean } | undefined}
 */
const parseAlternative = (text) => {
  const match = /^(\^|>=)\s*(\d+\.\d+\.\d+)$/.exec(text.trim());
  const lowest = match ? parseVersion(match[2]) : undefined;
  return match && lowest ? { lowest, sameMajor: match[1] === '^' } : undefined;
};

/**
 * Parses an `engines.node` range; undefined when it uses a form this check does not know (then
 * nothing is refused: npm's own EBADENGINE warning still speaks).
 * @param {string} range
 */
export function parseNodeRange(range) {
  const alternatives = [];
  for (const text of range.split('||')) {
    const alternative = parseAlternative(text);
    if (!alternative) return undefined;
    alternatives.push(alternative);
  }
  return alternatives;
}

/**
 * Whether `version` (e.g. process.versions.node) lies in `range`; undefined if either is not understood.
 * @param {string} version
 * @param {string} range
 * @returns {boolean | undefined}
 */
export function satisfiesNodeRange(version, range) {
  const alternatives = parseNodeRange(range);
  const current = parseVersion(version);
  if (!alternatives || !current) return undefined;
  return alternatives.some((a) => compare(current, a.lowest) >= 0 && (!a.sameMajor || current[0] === a.lowest[0]));
}

/**
 * "20.19 or a later 20.x, or 22.12 or later" for "^20.19.0 || >=22.12.0".
 * @param {string} range
 */
export function describeNodeRange(range) {
  const alternatives = parseNodeRange(range);
  if (!alternatives) return range;
  return alternatives
    .map((a) => `${a.lowest[0]}.${a.lowest[1]} or ${a.sameMajor ? `a later ${a.lowest[0]}.x` : 'later'}`)
    .join(', or ');
}

/**
 * The sentence for a Node outside `range`, or undefined when `version` is fine (or the range is not understood).
 * @param {string} version
 * @param {string} range
 * @returns {string | undefined}
 */
export function nodeVersionProblem(version, range) {
  if (satisfiesNodeRange(version, range) !== false) return undefined;
  return `Mailferry needs Node.js ${describeNodeRange(range)}, and this is Node.js ${version}: install a newer Node.js (from nodejs.org or your system's packages) and run the command again.`;
}

/**
 * Exits with `exitCode` and the sentence when this Node is outside package.json's `engines.node`.
 * @param {number} [exitCode]
 */
export function ensureSupportedNode(exitCode = 1) {
  const range = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')).engines.node;
  const problem = nodeVersionProblem(process.versions.node, range);
  if (problem) {
    process.stderr.write(problem + '\n');
    process.exit(exitCode);
  }
}
