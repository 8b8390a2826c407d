import { useCallback, useEffect, useState } from "react";
import type { ScreenProps } from "../App";
import type { Job } from "../gen/mivaa/jobs/v1/job_pb";
import { JOB_FILTERS, batchRetryWords, isRetryable } from "../lib/admin";
import { STREAM_TIMEOUT_MS } from "../lib/api";
import { isFinished, progressLabel } from "../lib/progress";
import { documentHref } from "../lib/route";
import { useCall } from "../lib/useCall";
import { usePages } from "../lib/usePages";
import { followJob } from "../lib/watch";
import { Queues, ScrollRegion, Statistics, SystemHealth, Usage } from "./AdminPanels";
import { Confirm } from "./ConfirmDelete";
import { ColumnHeads } from "./Parts";
import { ErrorAlert } from "./ErrorAlert";
import { Pager } from "./Pager";
import { ReembeddingPanel } from "./Reembedding";

const PAGE_SIZE = 20;
/** Failed jobs one "Retry failed jobs" queues again at most (BatchRetryJobs allows up to 100). */
const BULK_RETRIES = 50;

/** "Retry failed jobs" with a confirmation, and what it did in words. */
function RetryFailed({ clients, onAuthError, onDone }: ScreenProps & { onDone: () => void }) {
  const [asking, setAsking] = useState(false);
  const [outcome, setOutcome] = useState<{ summary: string; problems: string[] } | null>(null);
  const { busy, error, run } = useCall(onAuthError);
  const retry = () => {
    setAsking(false);
    void run(async (signal) => {
      setOutcome(batchRetryWords(await clients.admin.batchRetryJobs({ maxJobs: BULK_RETRIES }, { signal, timeoutMs: 120_000 })));
      onDone();
    });
  };
  return (
    <div className="row">
      <button type="button" onClick={() => setAsking(true)} disabled={busy}>
        {busy ? "Retrying…" : "Retry failed jobs…"}
      </button>
      <ErrorAlert message={error} />
      {outcome && (
        <div role="status" data-testid="retry-outcome">
          {outcome.summary}
          {outcome.problems.length > 0 && (
            <ul>
              {outcome.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {asking && (
        <Confirm
          id="retry-all-heading"
          title="Retry the failed jobs?"
          yes="Retry failed jobs"
          no="Not now"
          onYes={retry}
          onNo={() => setAsking(false)}
        >
          <p>
            Up to {BULK_RETRIES} failed jobs of this tenant run again from their stored files. Encrypted files need their
            password and are left as they are.
          </p>
        </Confirm>
      )}
    </div>
  );
}

/** One job: its progress, followed live (WatchJob) on request, and cancel while it runs. */
function JobRow({ job: listed, clients, onAuthError }: ScreenProps & { job: Job }) {
  const [job, setJob] = useState(listed);
  // Two calls of their own: cancelling does not stop the watch, which then sees the job end.
  const watching = useCall(onAuthError);
  const cancelling = useCall(onAuthError);
  const retrying = useCall(onAuthError);
  const error = watching.error || cancelling.error || retrying.error;
  const watch = () =>
    watching.run((signal) => followJob(clients.extractor, job.name, signal, setJob, { timeoutMs: STREAM_TIMEOUT_MS }));
  const cancel = () =>
    cancelling.run(async (signal) => {
      setJob((await clients.extractor.cancelJob({ name: job.name }, { signal })).job ?? job);
    });
  // Queued again from its stored file; then followed live like any running job.
  const retry = () =>
    retrying.run(async (signal) => {
      const retried = (await clients.admin.retryJob({ name: job.name }, { signal, timeoutMs: 60_000 })).job;
      if (retried) {
        setJob(retried);
        void watching.run((watchSignal) => followJob(clients.extractor, retried.name, watchSignal, setJob, { timeoutMs: STREAM_TIMEOUT_MS }));
      }
    });

  const finished = isFinished(job);
  const problem = job.error?.message || job.error?.reason;
  return (
    <tr data-testid="job-row" data-job={job.name} data-finished={finished}>
      <td>
        <a href={documentHref(job.document)}>{job.filename || job.document}</a>
        <div className="muted small">{job.name}</div>
      </td>
      <td data-testid="job-progress">
        {progressLabel(job)}
        {problem && <div className="error small">{problem}</div>}
        <ErrorAlert message={error} />
      </td>
      <td>
        {job.attempts}
        {job.retryCount > 0 && <div className="muted small">retried {job.retryCount}×</div>}
      </td>
      <td>{job.createTime ? new Date(Number(job.createTime.seconds) * 1000).toLocaleString() : ""}</td>
      <td className="actions">
        {!finished && (
          <button type="button" disabled={watching.busy} onClick={() => void watch()} aria-label={`Watch ${job.filename || job.name}`}>
            {watching.busy ? "Watching…" : "Watch"}
          </button>
        )}
        {!finished && (
          <button type="button" onClick={() => void cancel()} aria-label={`Cancel ${job.filename || job.name}`}>
            Cancel
          </button>
        )}
        {isRetryable(job) && (
          <button type="button" disabled={retrying.busy} onClick={() => void retry()} aria-label={`Retry ${job.filename || job.name}`}>
            {retrying.busy ? "Retrying…" : "Retry"}
          </button>
        )}
      </td>
    </tr>
  );
}

/** Jobs of the token's tenant (ListJobs, newest first), filtered by state on the server, paginated. */
function Jobs(props: ScreenProps) {
  const { clients, onAuthError } = props;
  const [filter, setFilter] = useState(0);
  const fetchPage = useCallback(
    async (pageToken: string, signal: AbortSignal) => {
      const response = await clients.extractor.listJobs(
        { pageSize: PAGE_SIZE, pageToken, states: JOB_FILTERS[filter].states },
        { signal },
      );
      return { items: response.jobs, nextPageToken: response.nextPageToken };
    },
    [clients, filter],
  );
  const { items: jobs, busy, error, paging, reload } = usePages(onAuthError, fetchPage);

  return (
    <section aria-labelledby="jobs-heading" className="panel">
      <h3 id="jobs-heading">Jobs</h3>
      <div className="row filters">
        <label>
          State
          <select value={filter} onChange={(e) => setFilter(Number(e.target.value))}>
            {JOB_FILTERS.map((f, i) => (
              <option key={f.label} value={i}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={reload} disabled={busy}>
          Refresh
        </button>
      </div>
      <RetryFailed {...props} onDone={reload} />
      <ErrorAlert message={error} />
      <ScrollRegion label="Jobs table">
        <table className="documents jobs" aria-busy={busy}>
          <ColumnHeads names={["File", "Progress", "Attempts", "Created"]} />
          <tbody>
            {jobs?.map((job) => <JobRow key={job.name} job={job} {...props} />)}
          </tbody>
        </table>
      </ScrollRegion>
      {jobs?.length === 0 && <p>No jobs.</p>}
      <Pager paging={paging} />
    </section>
  );
}

export function Admin(props: ScreenProps) {
  return (
    <div>
      <h2>Admin</h2>
      <SystemHealth {...props} />
      <Queues {...props} />
      <Usage {...props} />
      <Statistics {...props} />
      <ReembeddingPanel {...props} />
      <Jobs {...props} />
    </div>
  );
}
