import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobProgress } from '../src/contract/job.js';
import { createJobEffects } from './job-effects.js';

const progress = (bytesDone: number, bytesTotal: number): JobProgress => ({
  status: 'copying', bytesPerSecond: 1, etaSeconds: 1, startedAt: 0, folders: [], messagesDone: 0, messagesTotal: 0, bytesDone, bytesTotal,
});

test('awake while copying, progress by bytes, released and notified at the end', () => {
  const calls: string[] = [];
  const onEvent = createJobEffects({
    keepAwake: (on) => calls.push(`awake:${on}`),
    setProgress: (f, mode) => calls.push(`progress:${f}:${mode}`),
    notify: (title) => calls.push(`notify:${title}`),
  });
  onEvent({ type: 'job-status', jobId: 'j', status: 'copying' });
  onEvent({ type: 'progress', jobId: 'j', progress: progress(25, 100) });
  onEvent({ type: 'progress', jobId: 'j', progress: progress(50, 100) });
  onEvent({ type: 'job-status', jobId: 'j', status: 'paused' });
  onEvent({ type: 'job-status', jobId: 'j', status: 'copying' });
  onEvent({ type: 'job-status', jobId: 'j', status: 'done' });
  assert.deepEqual(calls, [
    'awake:true',
    'progress:0.25:normal',
    'progress:0.5:normal',
    'awake:false',
    'progress:1:paused',
    'awake:true',
    'awake:false',
    'progress:-1:normal',
    'notify:Your mail has moved',
  ]);
});
