/**
 * Whether a process of this machine still runs: what a lock file's owner is judged by (a
 * crashed or killed holder leaves its lock behind).
 */
export const isProcessAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};
