/**
 * The recipes for running a batch elsewhere, checked as far as this machine allows (no container
 * runtime, no cluster):
 * - deploy/kubernetes/: every manifest validates against the Kubernetes schema
 *   (kubernetes-models); the Job is Indexed and its shard count agrees with its completions; the
 *   users CSV in the ConfigMap is a valid batch file whose secrets the Secrets and mounts provide;
 *   the volumes and mounts agree; and the container's command line, run by `sh` as each pod would
 *   run it, gives each pod its own shard (1-based) and its own report files. The schema leaves
 *   unknown fields alone, so the fields the recipe relies on are read back one by one.
 * - Dockerfile: a Node the command line supports, the production dependencies only, an
 *   unprivileged user, `mailferry` as the entry point, nothing secret, every COPY source present and
 *   not excluded by .dockerignore, and everything the command line loads at run time inside the
 *   image: every file it imports (followed from bin/mailferry.js through src/) is copied, and
 *   every package it imports is a production dependency.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, PersistentVolumeClaim, Secret } from 'kubernetes-models/v1';
import { readBatchFile } from '../../src/batch/batch-file.js';
import { rowsOfShard } from '../../src/batch/run-batch.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const KUBE_DIR = join(REPO, 'deploy', 'kubernetes');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

/** The kubernetes-models class for each kind the recipe uses. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'batch/v1 Job': Job as never,
  'v1 ConfigMap': ConfigMap as never,
  'v1 Secret': Secret as never,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim as never,
};

const manifests = (): Manifest[] =>
  readdirSync(KUBE_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(KUBE_DIR, file), 'utf8')).map((doc) => {
        assert.deepEqual(doc.errors, [], `${file} is valid YAML`);
        return doc.toJS() as Manifest;
      }),
    );

const only = <T>(list: T[], what: string): T => {
  assert.equal(list.length, 1, `exactly one ${what}`);
  return list[0] as T;
};

interface Container {
  command: string[];
  args: string[];
  env?: { name: string; value?: string }[];
  envFrom?: { secretRef?: { name: string } }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string; defaultMode?: number };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: object;
}

describe('the Kubernetes recipe (deploy/kubernetes/)', () => {
  const all = manifests();
  const byKind = (kind: string): Manifest[] => all.filter((m) => m.kind === kind);
  const job = only(byKind('Job'), 'Job') as Manifest & {
    spec: { completionMode: string; completions: number; parallelism: number; template: { spec: { restartPolicy: string; securityContext: { runAsNonRoot: boolean }; containers: Container[]; volumes: Volume[] } } };
  };
  const pod = job.spec.template.spec;
  const container = only(pod.containers, 'container');
  const script = only(container.args, 'shell script argument');
  const volumeFor = (mountPath: string): Volume => {
    const mount = container.volumeMounts.find((m) => m.mountPath === mountPath);
    assert.ok(mount, `a volume is mounted at ${mountPath}`);
    return pod.volumes.find((v) => v.name === mount.name) as Volume;
  };

  test('every manifest validates against the Kubernetes schema', () => {
    assert.deepEqual(all.map((m) => `${m.kind} ${m.metadata.name}`).sort(), ['ConfigMap mailferry-users', 'Job mailferry-batch', 'PersistentVolumeClaim mailferry-state', 'Secret mailferry-password-files', 'Secret mailferry-passwords']);
    for (const manifest of all) {
      const Model = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
      assert.ok(Model, `${manifest.apiVersion} ${manifest.kind} is a kind the test knows`);
      assert.doesNotThrow(() => new Model(manifest as never).validate(), `${manifest.kind} ${manifest.metadata.name} validates`);
    }
    // The validation itself refuses what it should (the fields the recipe relies on are typed).
    const broken = structuredClone(job) as unknown as { spec: { completions: unknown } };
    broken.spec.completions = 'three';
    assert.throws(() => new Job(broken as never).validate(), /completions must be integer/);
  });

  test('an Indexed Job whose pods each take their own shard: JOB_COMPLETION_INDEX + 1 of completions', () => {
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.parallelism, job.spec.completions);
    assert.equal(pod.restartPolicy, 'Never');
    assert.deepEqual(container.command, ['sh', '-c']);
    assert.match(script, /^exec mailferry batch \S+ /);
    const shardCount = Number(/--shard "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\/(\d+)"/.exec(script)?.[1]);
    assert.equal(shardCount, job.spec.completions, 'the N of --shard is the number of completions');
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
  });

  test('the CSV, the Secrets, the volumes and the mounts agree: every secret a row names is there', () => {
    const csvPath = /mailferry batch (\S+)/.exec(script)?.[1] as string;
    const configVolume = volumeFor(dirname(csvPath));
    const configMap = only(byKind('ConfigMap').filter((m) => m.metadata.name === configVolume.configMap?.name), 'ConfigMap mounted for the CSV') as Manifest & { data: Record<string, string> };
    const csv = configMap.data[csvPath.slice(dirname(csvPath).length + 1)];
    assert.ok(csv, 'the ConfigMap holds the users CSV under the name the command uses');
    const rows = readBatchFile(Buffer.from(csv), { allowPlaintext: false, baseDir: dirname(csvPath) });
    assert.ok(rows.ok, `the users CSV is a valid batch file: ${JSON.stringify(rows)}`);

    const secret = (name: string | undefined) => only(byKind('Secret').filter((m) => m.metadata.name === name), `Secret ${name}`) as Manifest & { stringData: Record<string, string> };
    const envKeys = new Set((container.envFrom ?? []).flatMap((e) => Object.keys(secret(e.secretRef?.name).stringData)));
    const filesVolume = volumeFor('/secrets');
    const fileKeys = new Set(Object.keys(secret(filesVolume.secret?.secretName).stringData));
    assert.equal(filesVolume.secret?.defaultMode, 0o440, 'password files readable by the pod (fsGroup) only');
    for (const row of rows.value) {
      for (const login of [row.fromLogin, row.toLogin]) {
        if (login.kind === 'password-env') assert.ok(envKeys.has(login.variable), `${row.id}: ${login.variable} comes from a Secret`);
        else if (login.kind === 'password-file') {
          assert.equal(dirname(login.file), '/secrets', `${row.id}: password files are in the mounted Secret`);
          assert.ok(fileKeys.has(login.file.slice('/secrets/'.length)), `${row.id}: ${login.file} is a key of the files Secret`);
        } else assert.fail(`${row.id}: the recipe's rows sign in with passwords`);
      }
    }

    const stateDir = /--state-dir (\S+)/.exec(script)?.[1] as string;
    const claim = volumeFor(stateDir).persistentVolumeClaim?.claimName;
    const pvc = only(byKind('PersistentVolumeClaim').filter((m) => m.metadata.name === claim), 'PersistentVolumeClaim for the state') as Manifest & { spec: { accessModes: string[] } };
    assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany'], 'every shard (pod) mounts the same state volume');
    for (const report of script.matchAll(/--report-(?:csv|html) "([^"]+)"/g)) {
      assert.ok(report[1]?.startsWith(`${stateDir}/`), `${report[0]} writes to the state volume`);
    }
    // The root file system is read-only: HOME and /tmp are a scratch volume.
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(container.env?.find((e) => e.name === 'HOME')?.value, '/tmp');
    assert.ok(volumeFor('/tmp').emptyDir);
  });

  test('the command line, run by sh as each pod runs it: pod i runs shard i+1 of N with reports of its own; the shards cover every row once', () => {
    const bin = mkdtempSync(join(tmpdir(), 'mf-kube-shim-'));
    try {
      // `mailferry` in the image, here a stand-in that records the arguments it was given.
      const shim = join(bin, 'mailferry');
      writeFileSync(shim, '#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_FILE"\n');
      chmodSync(shim, 0o755);
      const seen: string[][] = [];
      for (let index = 0; index < job.spec.completions; index++) {
        const argsFile = join(bin, `args-${index}`);
        const run = spawnSync(container.command[0] as string, [...container.command.slice(1), script], { env: { PATH: `${bin}:/usr/bin:/bin`, JOB_COMPLETION_INDEX: String(index), ARGS_FILE: argsFile }, encoding: 'utf8' });
        assert.equal(run.status, 0, run.stderr);
        seen.push(readFileSync(argsFile, 'utf8').trimEnd().split('\n'));
      }
      const shards = seen.map((args) => args[args.indexOf('--shard') + 1]);
      assert.deepEqual(shards, Array.from({ length: job.spec.completions }, (_, i) => `${i + 1}/${job.spec.completions}`));
      for (const flag of ['--report-csv', '--report-html']) assert.equal(new Set(seen.map((args) => args[args.indexOf(flag) + 1])).size, job.spec.completions, `each pod writes its own ${flag}`);
      assert.ok(seen.every((args) => args[0] === 'batch'));

      const rows = Array.from({ length: 50 }, (_, i) => ({ row: i + 1 }));
      const union = shards.flatMap((s) => {
        const [index, count] = (s as string).split('/').map(Number);
        return rowsOfShard(rows, { index: index as number, count: count as number }).map((r) => r.row);
      });
      assert.deepEqual(union.sort((a, b) => a - b), rows.map((r) => r.row));
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

/** Dockerfile instructions: continuation lines joined, comments dropped. */
const dockerInstructions = (text: string): { keyword: string; rest: string }[] =>
  text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return { keyword: (keyword as string).toUpperCase(), rest: rest.join(' ') };
    });

/** The files a module imports at run time (`import type` is erased), resolved from src/*.ts like the build does. */
const runtimeImports = (file: string): string[] => {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specifiers = [
    ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string),
    ...[...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string),
    ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] as string),
  ];
  return specifiers;
};

describe('the Dockerfile of the command line', () => {
  const instructions = dockerInstructions(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
  const stages = instructions.reduce<{ keyword: string; rest: string }[][]>((list, i) => (i.keyword === 'FROM' ? [...list, [i]] : (list.at(-1)?.push(i), list)), []);
  const runtime = stages.at(-1) as { keyword: string; rest: string }[];
  const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  test('a Node the command line supports, production dependencies only, an unprivileged user, mailferry as the entry point, nothing secret', () => {
    const engines = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    for (const stage of stages) {
      const major = Number(/^node:(\d+)-/.exec((stage[0] as { rest: string }).rest)?.[1]);
      assert.ok(major === 20 || major >= 22, `${stage[0]?.rest}: a Node major package.json allows (${engines})`);
    }
    const runs = runtime.filter((i) => i.keyword === 'RUN').map((i) => i.rest);
    assert.ok(runs.some((r) => /npm ci --omit=dev --ignore-scripts/.test(r)), 'the image installs production dependencies only, without install scripts');
    assert.ok(runs.some((r) => r.includes('ln -s /app/bin/mailferry.js /usr/local/bin/mailferry')), 'mailferry is on the PATH');
    const userAt = runtime.findIndex((i) => i.keyword === 'USER');
    const entryAt = runtime.findIndex((i) => i.keyword === 'ENTRYPOINT');
    assert.ok(userAt >= 0 && userAt < entryAt, 'USER before ENTRYPOINT');
    assert.ok(!['root', '0'].includes(runtime[userAt]?.rest ?? 'root'), 'not root');
    assert.deepEqual(JSON.parse(runtime[entryAt]?.rest ?? 'null'), ['mailferry']);
    for (const i of instructions.filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) assert.doesNotMatch(i.rest, /pass|secret|token|key/i, `${i.keyword} ${i.rest}`);
  });

  test('every COPY source exists and is not excluded by .dockerignore; what the command line loads at run time is in the image', () => {
    for (const stage of stages) {
      for (const copy of stage.filter((i) => i.keyword === 'COPY')) {
        const parts = copy.rest.split(/\s+/);
        if (parts[0]?.startsWith('--from=')) continue;
        for (const source of parts.slice(0, -1)) {
          assert.ok(existsSync(join(REPO, source)), `COPY ${source}: it exists`);
          const top = normalize(source).split('/')[0] as string;
          assert.ok(!ignored.includes(top) && !ignored.includes(normalize(source).replace(/\/$/, '')), `COPY ${source}: not in .dockerignore`);
        }
      }
    }
    // What the image holds under /app: each runtime COPY's destination (or its sources, copied into ./).
    const imagePaths = runtime
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => {
        const parts = i.rest.split(/\s+/).filter((p) => !p.startsWith('--'));
        const destination = normalize(parts.at(-1) as string).replace(/\/$/, '');
        return destination === '.' ? parts.slice(0, -1).map((p) => normalize(p).replace(/\/$/, '')) : [destination];
      });
    // dist/src/ comes from the build stage, which compiles the src/ it copied.
    const build = stages[0] as { keyword: string; rest: string }[];
    assert.ok(build.some((i) => i.keyword === 'COPY' && i.rest === 'src/ src/') && build.some((i) => i.keyword === 'RUN' && i.rest === 'npm run build'), 'the build stage compiles src/');
    assert.ok(runtime.some((i) => i.keyword === 'COPY' && i.rest === '--from=build /app/dist/src/ dist/src/'), 'the image takes the compiled src/');
    const inImage = (repoPath: string): boolean => {
      const built = repoPath.startsWith('src/') ? `dist/${repoPath.replace(/\.ts$/, '.js')}` : repoPath;
      return imagePaths.some((p) => built === p || built.startsWith(`${p}/`));
    };
    const dependencies = new Set(Object.keys((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies));
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const seen = new Set<string>();
    const packages = new Set<string>();
    const queue = ['bin/mailferry.js'];
    for (let file = queue.shift(); file; file = queue.shift()) {
      if (seen.has(file)) continue;
      seen.add(file);
      assert.ok(inImage(file), `${file} is in the image`);
      for (const specifier of runtimeImports(join(REPO, file))) {
        if (specifier.startsWith('.')) {
          let target = normalize(join(dirname(file), specifier));
          // bin/ imports the build (dist/src/*.js); the build comes from src/*.ts.
          if (target.startsWith('dist/src/')) target = target.slice('dist/'.length);
          if (target.startsWith('src/')) target = target.replace(/\.js$/, '.ts');
          assert.ok(existsSync(join(REPO, target)), `${file} imports ${specifier}: ${target} exists`);
          queue.push(target);
        } else if (!builtins.has(specifier)) {
          const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string);
          packages.add(name);
        }
      }
    }
    assert.ok(seen.has('src/cli/batch-cli.ts') && seen.has('src/batch/run-batch.ts'), 'the batch is among what was followed');
    assert.deepEqual([...packages].filter((p) => !dependencies.has(p)), [], 'every package the command line imports is a production dependency');
    assert.ok(seen.size > 40, `the whole command line was followed (${seen.size} files, e.g. ${relative(REPO, join(REPO, [...seen][5] ?? ''))})`);
  });
});
