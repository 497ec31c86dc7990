/**
 * The Node.js version check (scripts/check-node-version.mjs): package.json's `engines.node` is
 * understood, versions on either side of it are told apart, and on a Node outside it
 * `npx mailferry` and `npm start` stop with one sentence before doing anything. An older Node is
 * played by setting process.versions before the entry point loads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeNodeRange, nodeVersionProblem, parseNodeRange, satisfiesNodeRange } from '../../scripts/check-node-version.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const RANGE = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

describe("package.json's engines.node", () => {
  test('is a range the check understands', () => {
    assert.notEqual(parseNodeRange(RANGE), undefined, RANGE);
  });

  test('admits the Node running the tests', () => {
    assert.equal(satisfiesNodeRange(process.versions.node, RANGE), true);
  });
});

describe('the range check', () => {
  const range = '^20.19.0 || >=22.12.0';
  for (const [version, expected] of [
    ['20.19.0', true],
    ['20.20.2', true],
    ['22.12.0', true],
    ['24.1.0', true],
    ['20.18.3', false],
    ['21.7.3', false],
    ['22.11.0', false],
    ['18.20.4', false],
    ['v20.19.1', true],
  ] as const) {
    test(`${version} ${expected ? 'is' : 'is not'} in ${range}`, () => {
      assert.equal(satisfiesNodeRange(version, range), expected);
    });
  }

  test('a range it does not understand refuses nothing', () => {
    assert.equal(parseNodeRange('>=20 <23'), undefined);
    assert.equal(nodeVersionProblem('12.0.0', '>=20 <23'), undefined);
  });

  test('says what is needed and what this is, in one sentence', () => {
    assert.equal(describeNodeRange(range), '20.19 or a later 20.x, or 22.12 or later');
    const problem = nodeVersionProblem('18.20.4', range);
    assert.ok(problem);
    assert.match(problem, /^Mailferry needs Node\.js 20\.19 or a later 20\.x, or 22\.12 or later, and this is Node\.js 18\.20\.4: .+\.$/);
    assert.equal(problem.split(/\. /).length, 1, 'one sentence');
  });
});

describe('on a Node that is too old', () => {
  const asNode = (version: string, entry: string, args: string[]) =>
    spawnSync(process.execPath, ['--import', `data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"${version}"}})`, entry, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });

  test('the mailferry command stops with exit status 2 and the sentence', () => {
    const run = asNode('18.20.4', 'bin/mailferry.js', ['--help']);
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, `${nodeVersionProblem('18.20.4', RANGE)}\n`);
  });

  test('npm start stops before building, with the sentence', () => {
    const run = asNode('21.7.3', 'scripts/start.mjs', []);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout, '', 'nothing was built');
    assert.equal(run.stderr, `${nodeVersionProblem('21.7.3', RANGE)}\n`);
  });
});
