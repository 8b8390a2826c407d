import { useCallback, useEffect, useState } from "react";
import type { ScreenProps } from "../App";
import type { Job } from "../gen/mivaa/jobs/v1/job_pb";
import { HEALTH_SERVICE_HEADER, JOB_FILTERS, SERVICES, healthWord, type HealthWord } from "../lib/admin";
import { STREAM_TIMEOUT_MS } from "../lib/api";
import { isFinished, progressLabel } from "../lib/progress";
import { documentHref } from "../lib/route";
import { useCall } from "../lib/useCall";
import { followJob } from "../lib/watch";
import { ColumnHeads } from "./Parts";
import { ErrorAlert } from "./ErrorAlert";
import { Pager } from "./Pager";

const PAGE_SIZE = 20;

/** Each service's health through the gateway (grpc.health Check routed by name; admin scope). */
function ServiceHealth({ clients }: ScreenProps) {
  const [health, setHealth] = useState<Record<string, HealthWord> | null>(null);
  const [checkedAt, setCheckedAt] = useState("");
  const check = useCallback(async () => {
    const words = await Promise.all(
      SERVICES.map(async (service) => {
        try {
          const response = await clients.health.check({}, { headers: { [HEALTH_SERVICE_HEADER]: service }, timeoutMs: 10_000 });
          return healthWord(response.status);
        } catch (error) {
          return healthWord(error);
        }
      }),
    );
    setHealth(Object.fromEntries(SERVICES.map((service, i) => [service, words[i]])));
    setCheckedAt(new Date().toLocaleTimeString());
  }, [clients]);
  useEffect(() => void check(), [check]);

  return (
    <section aria-labelledby="health-heading" className="panel">
      <h3 id="health-heading">Services</h3>
      <ul className="health" aria-label="Service health" data-testid="health">
        {SERVICES.map((service) => (
          <li key={service} data-service={service} data-health={health?.[service] ?? "checking"}>
            <strong>{service}</strong> <span className={`health-${(health?.[service] ?? "checking").replace(/ /g, "-")}`}>{health?.[service] ?? "checking…"}</span>
          </li>
        ))}
      </ul>
      <div className="row">
        <button type="button" onClick={() => void check()}>
          Check again
        </button>
        {checkedAt && <span className="muted">checked at {checkedAt}</span>}
      </div>
    </section>
  );
}

/** One job: its progress, followed live (WatchJob) on request, and cancel while it runs. */
function JobRow({ job: listed, clients, onAuthError }: ScreenProps & { job: Job }) {
  const [job, setJob] = useState(listed);
  // Two calls of their own: cancelling does not stop the watch, which then sees the job end.
  const watching = useCall(onAuthError);
  const cancelling = useCall(onAuthError);
  const error = watching.error || cancelling.error;
  const watch = () =>
    watching.run((signal) => followJob(clients.extractor, job.name, signal, setJob, { timeoutMs: STREAM_TIMEOUT_MS }));
  const cancel = () =>
    cancelling.run(async (signal) => {
      setJob((await clients.extractor.cancelJob({ name: job.name }, { signal })).job ?? job);
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
      <td>{job.attempts}</td>
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
      </td>
    </tr>
  );
}

/** Jobs of the token's tenant (ListJobs, newest first), filtered by state on the server, paginated. */
function Jobs(props: ScreenProps) {
  const { clients, onAuthError } = props;
  const [filter, setFilter] = useState(0);
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [tokens, setTokens] = useState<string[]>([""]);
  const [nextToken, setNextToken] = useState("");
  const { busy, error, run } = useCall(onAuthError);

  const load = useCallback(
    (pageToken: string) =>
      run(async (signal) => {
        const response = await clients.extractor.listJobs(
          { pageSize: PAGE_SIZE, pageToken, states: JOB_FILTERS[filter].states },
          { signal },
        );
        setJobs(response.jobs);
        setNextToken(response.nextPageToken);
      }),
    [clients, filter, run],
  );
  useEffect(() => {
    setTokens([""]);
    void load("");
  }, [load]);

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
        <button type="button" onClick={() => void load(tokens[tokens.length - 1])} disabled={busy}>
          Refresh
        </button>
      </div>
      <ErrorAlert message={error} />
      <div className="table-scroll">
        <table className="documents jobs" aria-busy={busy}>
          <ColumnHeads names={["File", "Progress", "Attempts", "Created"]} />
          <tbody>
            {jobs?.map((job) => <JobRow key={job.name} job={job} {...props} />)}
          </tbody>
        </table>
      </div>
      {jobs?.length === 0 && <p>No jobs.</p>}
      <Pager tokens={tokens} nextToken={nextToken} setTokens={setTokens} load={load} />
    </section>
  );
}

export function Admin(props: ScreenProps) {
  return (
    <div>
      <h2>Admin</h2>
      <ServiceHealth {...props} />
      <Jobs {...props} />
    </div>
  );
}
