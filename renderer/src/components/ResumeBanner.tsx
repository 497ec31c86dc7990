/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useAppStore } from '../store/context.js';
import { formatBytes, formatDateTime, formatPercent } from '../lib/format.js';

/** Offered on start when the engine's journal holds a job that stopped before it finished. */
export function ResumeBanner() {
  const jobs = useAppStore((s) => s.interruptedJobs);
  const screen = useAppStore((s) => s.screen);
  const resumeJob = useAppStore((s) => s.resumeJob);
  const dismiss = useAppStore((s) => s.dismissResume);
  const job = jobs[0];
  if (job === undefined || screen !== 'accounts') return null;
  return (
    <section className="banner" aria-labelledby="resume-title" data-testid="resume-offer">
      <div>
        <h2 id="resume-title">Pick up where you left off?</h2>
        <p>
          A move from <strong>{job.source}</strong> to <strong>{job.destination}</strong> stopped at{' '}
          {formatPercent(job.bytesDone, job.bytesTotal)} ({formatBytes(job.bytesDone)} of {formatBytes(job.bytesTotal)}), last active{' '}
          {formatDateTime(job.updatedAt)}. Nothing is copied twice when it resumes.
        </p>
      </div>
      <div className="banner-actions">
        <button type="button" className="button primary" onClick={() => void resumeJob(job.jobId)}>
          Resume the move
        </button>
        <button type="button" className="button" onClick={() => dismiss(job.jobId)}>
          Not now
        </button>
      </div>
    </section>
  );
}
