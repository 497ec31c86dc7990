import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { BatchInputProblem } from '../contract/batch.js';
import { readBatchFile } from './batch-file.js';
import { passwordOfFile, readRowLogins } from './batch-logins.js';
import { parseShard, rowsOfShard } from './run-batch.js';

const OPTIONS = { allowPlaintext: false, baseDir: '/srv/batch' };
const read = (text: string, options = OPTIONS) => readBatchFile(Buffer.from(text, 'utf8'), options);
const problemsOf = (text: string): BatchInputProblem[] => {
  const result = read(text);
  assert.ok(!result.ok, 'the file is refused');
  return result.error;
};

describe('reading a users CSV', () => {
  test('columns in any order, a BOM, CRLF, folder lists; each row knows its data row and file line', () => {
    const result = read(
      '\uFEFFto,ID,from,from_password_env,to_password_file,folder,exclude\r\n' +
        'imaps://a%40new.example@imap.new.example,alice,imaps://alice@old.example,ALICE_PW,secrets/alice,"INBOX; Work/2024",Trash\r\n' +
        '\r\n' +
        'mbox:/archive/bob,bob,imap://bob@old.example:1143,BOB_PW,,,\r\n',
      { allowPlaintext: true, baseDir: '/srv/batch' },
    );
    assert.ok(result.ok, JSON.stringify(result));
    const [alice, bob] = result.value;
    assert.deepEqual([alice?.id, alice?.row, alice?.line, bob?.id, bob?.row, bob?.line], ['alice', 1, 2, 'bob', 2, 4]);
    assert.deepEqual(alice?.include, ['INBOX', 'Work/2024']);
    assert.deepEqual(alice?.exclude, ['Trash']);
    assert.deepEqual(alice?.fromLogin, { kind: 'password-env', variable: 'ALICE_PW' });
    assert.deepEqual(alice?.toLogin, { kind: 'password-file', file: '/srv/batch/secrets/alice' });
    assert.deepEqual(alice?.to, { kind: 'imap', endpoint: { host: 'imap.new.example', port: 993, security: 'tls', user: 'a@new.example', allowPlaintext: true } });
    assert.deepEqual(bob?.to, { kind: 'archive', archive: { format: 'mbox', path: '/archive/bob' } });
    assert.deepEqual(bob?.toLogin, { kind: 'none' });
    assert.equal(bob?.from.kind === 'imap' && bob.from.endpoint.security, 'plain');
  });

  test('a missing column, a password column and an unknown one are named with the header line', () => {
    const problems = problemsOf('id,from,password,notes\nalice,imaps://a@h,x,y\n');
    assert.deepEqual(
      problems.map((p) => [p.line, p.column]),
      [
        [1, 'password'],
        [1, 'notes'],
        [1, 'to'],
      ],
    );
    assert.match(problems[0]?.reason ?? '', /would hold a password or token; a secret never goes in the CSV/);
    assert.match(problems[1]?.reason ?? '', /not a column Mailferry knows/);
  });

  test('every row problem at once, with row and line; no message repeats what may be a secret', () => {
    const problems = problemsOf(
      [
        'id,from,to,from_password_env,to_password_env',
        'alice,imaps://alice@old,imaps://alice@new,A,B',
        'ALICE,imaps://x@old,imaps://x@new,A,B',
        '../up,imaps://y@old,imaps://y@new,A,B',
        'carol,pop3://carol@old,imaps://carol@new,A,B',
        'dave,imaps://dave:hunter2@old,imaps://dave@new,A,B',
        'erin,imaps://erin@old,imaps://erin@new,s3cr3t pass!,B',
        'frank,imaps://frank@old,imaps://frank@new,,B',
        'gina,imaps://alice@old,imaps://alice@new,A,B',
        'hank,imaps://hank@old,imaps://hank@new,A',
      ].join('\n'),
    );
    assert.deepEqual(
      problems.map((p) => [p.row, p.line, p.column]),
      [
        [2, 3, 'id'],
        [3, 4, 'id'],
        [4, 5, 'from'],
        [5, 6, 'from'],
        [6, 7, 'from_password_env'],
        [7, 8, undefined],
        [8, 9, undefined],
        [9, 10, undefined],
      ],
    );
    const text = JSON.stringify(problems);
    assert.ok(!text.includes('hunter2') && !text.includes('s3cr3t'), 'no secret is repeated');
    assert.match(problems[0]?.reason ?? '', /already the id of row 1/);
    assert.match(problems[2]?.reason ?? '', /"pop3" is not supported/);
    assert.match(problems[3]?.reason ?? '', /holds a password/);
    assert.match(problems[5]?.reason ?? '', /no way to sign in to the source/);
    assert.match(problems[6]?.reason ?? '', /same mailbox to the same place as row 1/);
    assert.match(problems[7]?.reason ?? '', /has 4 fields; the header has 5/);
  });

  test('not UTF-8, not CSV, or no mailboxes: one problem for the file', () => {
    const latin1 = readBatchFile(Buffer.from([0x69, 0x64, 0x0a, 0xe9, 0x0a]), OPTIONS);
    assert.ok(!latin1.ok);
    assert.match(latin1.error[0]?.reason ?? '', /not UTF-8/);
    assert.deepEqual(problemsOf('id,from,to\n"alice,x,y\n').map((p) => p.line), [2]);
    assert.match(problemsOf('id,from,to\n,,\n')[0]?.reason ?? '', /no mailboxes/);
    assert.match(problemsOf('')[0]?.reason ?? '', /empty/);
  });

  test('an archive side needs no sign-in, an account side exactly one', () => {
    const problems = problemsOf('id,from,to,from_password_env,from_oauth,to_password_env\na,imaps://a@old,mbox:/x,A,google,B\n');
    assert.match(problems.map((p) => p.reason).join(' '), /more than one way to sign in.*from_password_env, from_oauth/);
    assert.match(problems.map((p) => p.reason).join(' '), /destination is an archive: it needs no password/);
    const oauth = read('id,from,to,from_oauth,from_token_env\na,imaps://a@old,mbox:/x,google,A_TOKEN\n');
    assert.ok(oauth.ok);
    assert.deepEqual(oauth.value[0]?.fromLogin, { kind: 'oauth', provider: 'google', tokenEnv: 'A_TOKEN' });
  });
});

describe('reading the secrets a row names', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailferry-batch-logins-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a password file loses one trailing line break, no more; empty or several lines are refused', () => {
    assert.deepEqual(passwordOfFile(Buffer.from('pa ss\n')), { ok: true, value: 'pa ss' });
    assert.deepEqual(passwordOfFile(Buffer.from('pass\r\n')), { ok: true, value: 'pass' });
    assert.deepEqual(passwordOfFile(Buffer.from(' pass ')), { ok: true, value: ' pass ' });
    assert.equal(passwordOfFile(Buffer.from('pass\n\n')).ok, false);
    assert.equal(passwordOfFile(Buffer.from('\n')).ok, false);
    assert.equal(passwordOfFile(Buffer.alloc(5000, 'a')).ok, false);
  });

  test('variables and files are read; a variable not set and a missing file are problems of their row', async () => {
    writeFileSync(path.join(dir, 'carol'), 'carol-secret\n');
    const rows = read(
      [
        'id,from,to,from_password_env,to_password_file,to_oauth,to_token_env',
        'alice,imaps://alice@old,imaps://alice@new,ALICE_PW,carol,,',
        'bob,imaps://bob@old,imaps://bob@new,UNSET_PW,missing,,',
        'carol,imaps://carol@old,imaps://carol@new,ALICE_PW,,,CAROL_TOKEN',
        'dave,imaps://dave@old,imaps://dave@new,ALICE_PW,,microsoft,',
      ].join('\n'),
      { allowPlaintext: false, baseDir: dir },
    );
    assert.ok(rows.ok, JSON.stringify(rows));
    const env = { ALICE_PW: 'alice-secret', CAROL_TOKEN: 'token-1', MAILFERRY_OAUTH_CLIENT_ID: 'client' };
    const noKeychain = await readRowLogins(rows.value, { env, settings: {} });
    assert.ok(!noKeychain.ok);
    assert.deepEqual(
      noKeychain.error.map((p) => [p.row, p.column]),
      [
        [2, 'from_password_env'],
        [2, 'to_password_file'],
        [4, 'to_oauth'],
      ],
    );
    assert.match(noKeychain.error[0]?.reason ?? '', /UNSET_PW .* is not set/);
    assert.match(noKeychain.error[2]?.reason ?? '', /No sign-in is kept on this computer for dave .* --to-oauth microsoft --remember/);

    const kept = new Map([['oauth2 microsoft client dave@new', 'refresh-token']]);
    const keychain = { load: async (key: string) => ({ ok: true as const, value: kept.get(key) }), save: async () => ({ ok: true as const, value: undefined }), remove: async () => ({ ok: true as const, value: undefined }) };
    const good = await readRowLogins([rows.value[0], rows.value[2], rows.value[3]].filter((r) => r !== undefined), { env, settings: {}, keychain });
    assert.ok(good.ok, JSON.stringify(good));
    assert.deepEqual(good.value.get('alice'), { from: { kind: 'password', password: 'alice-secret' }, to: { kind: 'password', password: 'carol-secret' } });
    assert.deepEqual(good.value.get('carol')?.to, { kind: 'oauth', readyToken: 'token-1' });
    assert.deepEqual(good.value.get('dave')?.to, { kind: 'oauth', provider: 'microsoft' });
  });
});

describe('shards', () => {
  test('I/N takes the rows whose position modulo N is I-1; the shards of a batch are its rows, each once', () => {
    assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '1/0', '1', 'a/b', '-1/2']) assert.equal(parseShard(bad), undefined, bad);
    const rows = Array.from({ length: 10 }, (_, i) => ({ row: i + 1 }));
    assert.deepEqual(rowsOfShard(rows, { index: 1, count: 3 }).map((r) => r.row), [1, 4, 7, 10]);
    const union = [1, 2, 3].flatMap((index) => rowsOfShard(rows, { index, count: 3 }).map((r) => r.row)).sort((a, b) => a - b);
    assert.deepEqual(union, rows.map((r) => r.row));
  });
});
