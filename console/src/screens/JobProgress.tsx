// A job followed live (WatchJob through followJob, reopened after a drop) with its progress bar and
// label, for the document view's reprocess and new version.
import { useCallback, useEffect, useRef, useState } from "react";
import type { ScreenProps } from "../App";
import { JobState, type Job } from "../gen/mivaa/jobs/v1/job_pb";
import { STREAM_TIMEOUT_MS } from "../lib/api";
import { describeError, describeReason, isUnauthenticated } from "../lib/errors";
import { isFinished, progressFraction, progressLabel } from "../lib/progress";
import { followJob } from "../lib/watch";
import { ErrorAlert } from "./ErrorAlert";

/** Follows one job at a time; `onEnd` gets the job once it is finished. */
export function useJobWatch({ clients, onAuthError }: ScreenProps, onEnd: (job: Job) => void) {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState("");
  const current = useRef<AbortController | null>(null);
  const ended = useRef(onEnd);
  useEffect(() => {
    ended.current = onEnd;
  });
  useEffect(() => () => current.current?.abort(), []);

  const follow = useCallback(
    async (started: Job) => {
      current.current?.abort();
      const abort = new AbortController();
      current.current = abort;
      setJob(started);
      setError("");
      let last = started;
      try {
        await followJob(clients.extractor, started.name, abort.signal, (next) => ((last = next), setJob(next)), {
          timeoutMs: STREAM_TIMEOUT_MS,
        });
        if (!abort.signal.aborted && isFinished(last)) ended.current(last);
      } catch (e) {
        if (abort.signal.aborted) return;
        if (isUnauthenticated(e)) return onAuthError();
        setError(describeError(e));
      }
    },
    [clients, onAuthError],
  );
  const running = job !== null && !isFinished(job) && !error;
  return { job, error, running, follow, clear: () => setJob(null) };
}

/** The job's progress bar and words; a failed job's reason in plain words. */
export function JobProgress({ job, label, error }: { job: Job | null; label: string; error: string }) {
  if (!job) return <ErrorAlert message={error} />;
  const failed = job.state === JobState.FAILED && job.error;
  return (
    <div className="job-progress" data-testid="job-progress" data-finished={isFinished(job)} data-state={JobState[job.state]}>
      <span className="status" aria-live="polite" data-testid="job-progress-label">
        {progressLabel(job)}
      </span>
      <progress max={1} value={progressFraction(job)} aria-label={label} />
      {failed && <ErrorAlert message={describeReason(job.error!.reason, job.error!.message)} />}
      <ErrorAlert message={error} />
    </div>
  );
}
