/** @jsxRuntime automatic */
/** @jsxImportSource react */
import '../../test/setup-dom.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pointsToDraw } from './SpeedChart.js';

test('points are drawn where no line can be: the first one or two samples, and a speed alone between pauses', () => {
  assert.deepEqual(pointsToDraw([]), []);
  assert.deepEqual(pointsToDraw([5]), [0]);
  assert.deepEqual(pointsToDraw([5, 6]), [0, 1]);
  assert.deepEqual(pointsToDraw([5, 6, 7]), [], 'a line shows three samples in a row');
  assert.deepEqual(pointsToDraw([5, null, 7, null]), [0, 2], 'each alone between pauses');
  assert.deepEqual(pointsToDraw([5, 6, null, 7, 8, null, 9]), [6]);
  assert.deepEqual(pointsToDraw([null, null, 3]), [2]);
});
