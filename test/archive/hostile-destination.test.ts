/**
 * An archive used as the destination that was prepared to make Mailferry change files outside
 * it (issue 18), each built by the test in a temp folder next to an `outside/` folder:
 * - a planted `mailferry-index.jsonl` whose `tmp` / `file` entries lead out of the folder: the
 *   Maildir repair used to rename an outside file over another (overwriting it with the
 *   attacker's bytes), the eml repair used to move an outside file into the archive;
 * - symbolic links inside the archive (a Maildir `.Folder` or `cur/`, an eml folder, an mbox
 *   file, an mbox `.sbd` directory, an mbox index) that used to make messages land outside;
 * - folder names and index paths with `..`.
 * Every case runs the real CLI from an eml archive and ends with the same checks: the outside
 * folder is unchanged byte for byte (nothing created, moved, rewritten or re-moded there), the
 * refused folder is reported with the reason, and the other folders are copied all the same.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { ArchiveFormat } from '../../src/contract/account.js';
import type { FolderReport } from '../../src/contract/job.js';
import { freshStateDir, runCliCaptured, type CliRun } from '../engine/cli-harness.js';
import { archiveMail, testMessage as message, treeState } from './archive-helpers.js';


/** What the attacker put outside the archive: files to overwrite or move, folders to write into. */
const ATTACKER_BYTES = 'attacker content\n';
const VICTIM_BYTES = 'precious, must never change\n';

interface Sandbox {
  /** The source: an eml archive with INBOX, Work, Parent and Parent/Child, one message each. */
  source: string;
  /** The destination archive the test makes hostile. */
  archive: string;
  /** Everything outside the archive that a hostile archive points at. */
  outside: string;
}

const sandboxes: string[] = [];
after(() => {
  for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
});

const makeSandbox = (): Sandbox => {
  const base = mkdtempSync(path.join(tmpdir(), 'mailferry-hostile-'));
  sandboxes.push(base);
  const source = path.join(base, 'source');
  for (const folder of ['INBOX', 'Work', 'Parent', 'Parent/Child']) {
    mkdirSync(path.join(source, folder), { recursive: true });
    writeFileSync(path.join(source, folder, 'message.eml'), message(`in ${folder}`));
  }
  const outside = path.join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'victim.txt'), VICTIM_BYTES);
  writeFileSync(path.join(outside, 'attacker.txt'), ATTACKER_BYTES);
  writeFileSync(path.join(outside, 'moved.txt'), VICTIM_BYTES);
  // Folders a link may point at, shaped like what each format writes into.
  for (const sub of ['maildir/cur', 'maildir/new', 'maildir/tmp', 'eml', 'sbd']) mkdirSync(path.join(outside, sub), { recursive: true });
  const archive = path.join(base, 'archive');
  mkdirSync(archive);
  return { source, archive, outside };
};

const copyInto = (box: Sandbox, format: ArchiveFormat): Promise<CliRun> =>
  runCliCaptured(['copy', '--from', `eml:${box.source}`, '--to', `${format}:${box.archive}`, '--state', freshStateDir(), '--json'], {});

const folderReport = (run: CliRun, sourcePath: string): FolderReport => {
  const folder = run.report?.folders.find((f) => f.sourcePath === sourcePath);
  assert.ok(folder, `no report for ${sourcePath}:\n${run.stdout.slice(-3000)}\n${run.stderr}`);
  return folder;
};

/** The refused folder carries the reason; every other folder arrived complete. */
const assertRefusedOnly = (run: CliRun, refused: string[], reason: RegExp): void => {
  assert.equal(run.code, 1, `a refused folder makes the run incomplete:\n${run.stderr}`);
  for (const f of run.report?.folders ?? []) {
    if (refused.includes(f.sourcePath)) {
      assert.equal(f.isComplete, false, `${f.sourcePath} was refused`);
      assert.match(f.error?.message ?? '', reason, `${f.sourcePath}: the reason is given`);
      assert.equal(f.copied, 0, `${f.sourcePath}: nothing was written`);
    } else assert.equal(f.isComplete, true, `${f.sourcePath} still arrived: ${JSON.stringify(f.error)}`);
  }
  for (const path of refused) folderReport(run, path);
};

const plantIndex = (file: string, lines: object[]): void => writeFileSync(file, lines.map((l) => JSON.stringify(l) + '\n').join(''));
const header = (format: ArchiveFormat, folderPath: string) => ({ t: 'folder', v: 1, format, path: folderPath, uidValidity: '4242', created: 0 });
const entry = (extra: object) => ({ t: 'msg', uid: 1, key: 'planted', fp: 'planted', size: 1, flags: [], date: 0, ...extra });

describe('a planted index in a destination archive is reported, never obeyed', () => {
  test('Maildir: an entry whose tmp/file lead outside does not overwrite or move outside files', async () => {
    const box = makeSandbox();
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(box.archive, sub));
    // Before issue 18 the repair renamed outside/attacker.txt over outside/victim.txt.
    plantIndex(path.join(box.archive, 'mailferry-index.jsonl'), [
      header('maildir', 'INBOX'),
      entry({ tmp: '../outside/attacker.txt', file: '../outside/victim.txt' }),
    ]);
    const outsideBefore = treeState(box.outside);
    const run = await copyInto(box, 'maildir');
    assert.deepEqual(treeState(box.outside), outsideBefore, 'the outside folder changed');
    assert.equal(readFileSync(path.join(box.outside, 'victim.txt'), 'utf8'), VICTIM_BYTES);
    assertRefusedOnly(run, ['INBOX'], /mailferry-index\.jsonl is not one Mailferry wrote \(line 2: .*tmp\/ and cur\//);
  });

  test('Maildir: an entry naming another file of the folder, or an absolute path, is refused too', async () => {
    for (const planted of [
      { key: 'planted', tmp: 'tmp/other', file: 'cur/planted:2,' },
      { key: 'planted', tmp: 'tmp/planted', file: 'cur/../../outside/victim.txt' },
      { key: '../planted', tmp: 'tmp/../planted', file: 'cur/../planted' },
      { key: 'planted', tmp: '/tmp/planted', file: '/tmp/planted:2,' },
    ]) {
      const box = makeSandbox();
      for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(box.archive, sub));
      plantIndex(path.join(box.archive, 'mailferry-index.jsonl'), [header('maildir', 'INBOX'), entry(planted)]);
      const before = treeState(path.dirname(box.archive));
      const run = await copyInto(box, 'maildir');
      assertRefusedOnly(run, ['INBOX'], /not one Mailferry wrote/);
      const after = treeState(path.dirname(box.archive));
      for (const [rel, state] of before) {
        if (!rel.startsWith('archive')) assert.equal(after.get(rel), state, `${JSON.stringify(planted)}: ${rel} changed`);
      }
      for (const rel of after.keys()) assert.ok(before.has(rel) || rel.startsWith(`archive${path.sep}`), `${rel} was created outside the archive`);
    }
  });

  test('eml: an entry whose tmp leads outside does not move the outside file into the archive', async () => {
    const box = makeSandbox();
    mkdirSync(path.join(box.archive, 'INBOX'));
    // Before issue 18 the repair published ../../outside/moved.txt as INBOX/stolen.eml (a link, then an unlink outside).
    plantIndex(path.join(box.archive, 'INBOX', '.mailferry-index.jsonl'), [header('eml', 'INBOX'), entry({ key: 'stolen.eml', tmp: '../../outside/moved.txt', file: 'stolen.eml' })]);
    const outsideBefore = treeState(box.outside);
    const run = await copyInto(box, 'eml');
    assert.deepEqual(treeState(box.outside), outsideBefore, 'the outside folder changed');
    assert.equal(readFileSync(path.join(box.outside, 'moved.txt'), 'utf8'), VICTIM_BYTES);
    assertRefusedOnly(run, ['INBOX'], /\.mailferry-index\.jsonl is not one Mailferry wrote/);
  });

  test('an index of another format, or with out-of-range numbers, is refused', async () => {
    for (const lines of [
      [header('eml', 'INBOX')],
      [header('maildir', 'INBOX'), entry({ uid: -1 })],
      [header('maildir', 'INBOX'), entry({ uid: 2 ** 40 })],
      [{ ...header('maildir', 'INBOX'), uidValidity: '0' }],
    ]) {
      const box = makeSandbox();
      for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(box.archive, sub));
      plantIndex(path.join(box.archive, 'mailferry-index.jsonl'), lines);
      const run = await copyInto(box, 'maildir');
      assertRefusedOnly(run, ['INBOX'], /not one Mailferry wrote/);
    }
  });
});

describe('links inside a destination archive are never followed', () => {
  const cases: { name: string; format: ArchiveFormat; refused: string[]; plant: (box: Sandbox) => void }[] = [
    {
      name: 'Maildir: a folder .Work linked to an outside Maildir',
      format: 'maildir',
      refused: ['Work'],
      plant: (box) => symlinkSync(path.join(box.outside, 'maildir'), path.join(box.archive, '.Work')),
    },
    {
      name: "Maildir: INBOX's cur/ linked outside",
      format: 'maildir',
      refused: ['INBOX'],
      plant: (box) => {
        for (const sub of ['new', 'tmp']) mkdirSync(path.join(box.archive, sub));
        symlinkSync(path.join(box.outside, 'maildir', 'cur'), path.join(box.archive, 'cur'));
      },
    },
    {
      name: "Maildir: a folder's tmp/ linked outside",
      format: 'maildir',
      refused: ['Work'],
      plant: (box) => {
        for (const sub of ['cur', 'new']) mkdirSync(path.join(box.archive, '.Work', sub), { recursive: true });
        symlinkSync(path.join(box.outside, 'maildir', 'tmp'), path.join(box.archive, '.Work', 'tmp'));
      },
    },
    {
      name: 'Maildir: dovecot-keywords linked to an outside file',
      format: 'maildir',
      refused: ['INBOX'],
      plant: (box) => {
        for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(box.archive, sub));
        symlinkSync(path.join(box.outside, 'victim.txt'), path.join(box.archive, 'dovecot-keywords'));
      },
    },
    {
      name: 'eml: a folder linked to an outside folder',
      format: 'eml',
      refused: ['Work'],
      plant: (box) => symlinkSync(path.join(box.outside, 'eml'), path.join(box.archive, 'Work')),
    },
    {
      name: "eml: a folder's index linked to an outside file",
      format: 'eml',
      refused: ['Work'],
      plant: (box) => {
        mkdirSync(path.join(box.archive, 'Work'));
        symlinkSync(path.join(box.outside, 'victim.txt'), path.join(box.archive, 'Work', '.mailferry-index.jsonl'));
      },
    },
    {
      name: 'mbox: a folder file linked to an outside file',
      format: 'mbox',
      refused: ['Work'],
      plant: (box) => symlinkSync(path.join(box.outside, 'victim.txt'), path.join(box.archive, 'Work')),
    },
    {
      name: 'mbox: a folder index linked to an outside file',
      format: 'mbox',
      refused: ['Work'],
      plant: (box) => {
        writeFileSync(path.join(box.archive, 'Work'), '');
        symlinkSync(path.join(box.outside, 'victim.txt'), path.join(box.archive, '.Work.mailferry-index.jsonl'));
      },
    },
    {
      name: 'mbox: a .sbd directory linked to an outside folder',
      format: 'mbox',
      refused: ['Parent/Child'],
      plant: (box) => symlinkSync(path.join(box.outside, 'sbd'), path.join(box.archive, 'Parent.sbd')),
    },
  ];
  for (const c of cases) {
    test(`${c.name}: refused with the reason, nothing outside changes, the other folders arrive`, async () => {
      const box = makeSandbox();
      c.plant(box);
      const outsideBefore = treeState(box.outside);
      const run = await copyInto(box, c.format);
      assert.deepEqual(treeState(box.outside), outsideBefore, 'the outside folder changed');
      assertRefusedOnly(run, c.refused, /symbolic link/);
    });
  }

  test('a re-run into the same hostile archive still refuses, and still writes nothing outside', async () => {
    const box = makeSandbox();
    symlinkSync(path.join(box.outside, 'victim.txt'), path.join(box.archive, 'Work'));
    const outsideBefore = treeState(box.outside);
    const state = freshStateDir();
    for (let run = 1; run <= 2; run++) {
      const result = await runCliCaptured(['copy', '--from', `eml:${box.source}`, '--to', `mbox:${box.archive}`, '--state', state, '--json'], {});
      assertRefusedOnly(result, ['Work'], /symbolic link/);
    }
    assert.deepEqual(treeState(box.outside), outsideBefore, 'the outside folder changed');
  });
});

describe('".." in folder names stays inside the archive', () => {
  for (const format of ['mbox', 'maildir', 'eml'] as const) {
    test(`${format}: source folders ".." and "../outside", and --map to "../../outside/mapped", land inside`, async () => {
      const box = makeSandbox();
      // A Maildir source whose folder names decode to ".." and "../outside" (two levels).
      const hostileSource = path.join(path.dirname(box.archive), 'hostile-source');
      for (const dir of ['.%2E%2E', '.%2E%2E.outside', '.Plain']) {
        for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(hostileSource, dir, sub), { recursive: true });
        writeFileSync(path.join(hostileSource, dir, 'cur', '1.M1P1.host:2,S'), message(`in ${dir}`));
      }
      const base = path.dirname(box.archive);
      const before = treeState(base);
      const run = await runCliCaptured(
        ['copy', '--from', `maildir:${hostileSource}`, '--to', `${format}:${box.archive}`, '--map', 'Plain=../../outside/mapped', '--state', freshStateDir(), '--json'],
        {},
      );
      assert.equal(run.code, 0, run.stderr + run.stdout.slice(-2000));
      const after = treeState(base);
      for (const rel of after.keys()) {
        if (!before.has(rel)) assert.ok(rel.startsWith(`archive${path.sep}`), `${rel} was created outside the archive`);
      }
      for (const [rel, state] of before) assert.equal(after.get(rel), state, `${rel} changed`);
      const archived = await archiveMail(format, box.archive);
      assert.equal(archived.folders.filter((f) => f.messages.length === 1).length, 3, JSON.stringify(archived.folders.map((f) => f.path)));
    });
  }
});
