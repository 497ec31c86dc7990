/** Test helpers: what an archive holds (read through its own source store) and a digest of its files. */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { ArchiveFormat } from '../../src/contract/account.js';
import { openArchiveSource } from '../../src/archive/open-archive.js';
import { joinedBytes } from '../../src/engine/message-bytes.js';
import type { MailSet, MessageKey } from '../support/mail-snapshot.js';

/** Every folder and message of an archive, as the archive source store reports them (bytes hashed). */
export const archiveMail = async (format: ArchiveFormat, dir: string): Promise<MailSet> => {
  const opened = await openArchiveSource({ format, path: dir });
  if (!opened.ok) throw new Error(opened.error.message);
  const store = opened.value;
  try {
    const folders = await store.listFolders();
    if (!folders.ok) throw new Error(folders.error.message);
    const result: MailSet = { folders: [] };
    for (const folder of folders.value) {
      const state = await store.openFolder(folder.path);
      if (!state.ok) throw new Error(state.error.message);
      const metas = await store.listMessages(folder.path, 'all');
      if (!metas.ok) throw new Error(metas.error.message);
      const byUid = new Map(metas.value.map((m) => [m.uid, m]));
      const messages: MessageKey[] = [];
      for await (const body of store.readBodies(folder.path, metas.value.map((m) => m.uid))) {
        if (!body.ok) throw new Error(`${folder.path} uid ${body.uid}: ${body.error.message}`);
        const meta = byUid.get(body.uid);
        if (!meta) throw new Error('body without meta');
        messages.push({
          sha256: createHash('sha256').update(joinedBytes(body.body)).digest('hex'),
          size: body.body.length,
          flags: [...meta.flags].sort(),
          internalDate: meta.internalDate.toISOString(),
          subject: meta.subject,
        });
      }
      result.folders.push({ path: folder.path, messages });
    }
    return result;
  } finally {
    await store.close();
  }
};

/** Relative path → sha256 of every file under `dir` (index files included). */
export const digestFiles = (dir: string): Map<string, string> => {
  const digests = new Map<string, string>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else digests.set(path.relative(dir, full), createHash('sha256').update(readFileSync(full)).digest('hex'));
    }
  };
  walk(dir);
  return digests;
};

/**
 * Every path under `dir` as it is on disk, links not followed: a link as its target text, a
 * directory with its mode, a file with its mode and a hash of its bytes. Two equal states mean
 * nothing under `dir` was created, removed, moved, rewritten or re-moded.
 */
export const treeState = (dir: string): Map<string, string> => {
  const state = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const stat = lstatSync(full);
      const rel = path.relative(dir, full);
      const mode = (stat.mode & 0o777).toString(8);
      if (stat.isSymbolicLink()) state.set(rel, `link → ${readlinkSync(full)}`);
      else if (stat.isDirectory()) {
        state.set(rel, `directory ${mode}`);
        walk(full);
      } else state.set(rel, `file ${mode} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
    }
  };
  walk(dir);
  return state;
};

/** A small CRLF message with this subject (and a Message-ID made from it), as a test archive holds. */
export const testMessage = (subject: string): Buffer =>
  Buffer.from(`From: sender@example.org\r\nTo: me@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\n${subject}, the body.\r\n`);
