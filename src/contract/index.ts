export * from './result.js';
export * from './account.js';
export * from './plan.js';
export * from './job.js';
export * from './ipc.js';
