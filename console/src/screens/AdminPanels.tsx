// The admin screen's overview panels: system health, work queues, usage and job statistics,
// each loaded from one AdminService call and refreshed on request.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import type { ScreenProps } from "../App";
import type {
  GetJobStatisticsResponse,
  GetQueueStatusResponse,
  GetSystemHealthResponse,
  GetUsageResponse,
} from "../gen/mivaa/admin/v1/admin_service_pb";
import { JobStage, JobState } from "../gen/mivaa/jobs/v1/job_pb";
import { byteWords, durationWords, healthWord, queueWords } from "../lib/admin";
import { useCall } from "../lib/useCall";
import { ErrorAlert } from "./ErrorAlert";

function enumWords(name: string | undefined): string {
  return (name ?? "unknown").toLowerCase().replace(/_/g, " ");
}

/** A table that may scroll sideways on a narrow screen: focusable, so the keyboard can scroll it too. */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** A table's column headings (no actions column). */
function Heads({ names }: { names: string[] }) {
  return (
    <thead>
      <tr>
        {names.map((name) => (
          <th key={name} scope="col">
            {name}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** Loads `fetch` once and on "Refresh"; the latest answer, the call's state and a refresh button. */
function usePanel<T>({ onAuthError }: ScreenProps, fetch: (signal: AbortSignal) => Promise<T>) {
  const [value, setValue] = useState<T | null>(null);
  const [checkedAt, setCheckedAt] = useState("");
  const call = useCall(onAuthError);
  const { run } = call;
  const load = useCallback(
    () =>
      run(async (signal) => {
        setValue(await fetch(signal));
        setCheckedAt(new Date().toLocaleTimeString());
      }),
    [run, fetch],
  );
  useEffect(() => void load(), [load]);
  return { value, checkedAt, load, ...call };
}

function Refresh({ label, load, busy, checkedAt }: { label: string; load: () => void; busy: boolean; checkedAt: string }) {
  return (
    <div className="row">
      <button type="button" onClick={load} disabled={busy} aria-label={`Refresh ${label}`}>
        Refresh
      </button>
      {checkedAt && <span className="muted">checked at {checkedAt}</span>}
    </div>
  );
}

/** Every component's health from one GetSystemHealth call (the extractor asks each with a deadline). */
export function SystemHealth(props: ScreenProps) {
  const fetch = useCallback(
    (signal: AbortSignal) => props.clients.admin.getSystemHealth({}, { signal, timeoutMs: 20_000 }),
    [props.clients],
  );
  const { value, ...panel } = usePanel<GetSystemHealthResponse>(props, fetch);
  const overall = value ? healthWord(value.status) : "checking";
  return (
    <section aria-labelledby="health-heading" className="panel">
      <h3 id="health-heading">
        System health: <span className={`health-${overall.replace(/ /g, "-")}`} data-testid="health-overall">{overall}</span>
      </h3>
      <ErrorAlert message={panel.error} />
      <ScrollRegion label="Health table">
        <table className="documents" data-testid="health" aria-busy={panel.busy}>
          <caption className="visually-hidden">Health of each component</caption>
          <Heads names={["Component", "Status", "Check took", "Details"]} />
          <tbody>
            {value?.components.map((c) => {
              const word = healthWord(c.status);
              return (
                <tr key={c.component} data-service={c.component} data-health={word}>
                  <th scope="row">{c.component}</th>
                  <td className={`health-${word.replace(/ /g, "-")}`}>{word}</td>
                  <td>{durationWords(c.latency)}</td>
                  <td>{c.message}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollRegion>
      <Refresh label="system health" load={() => void panel.load()} busy={panel.busy} checkedAt={panel.checkedAt} />
    </section>
  );
}

/** The work queues: waiting, in progress, redelivered, the oldest task's wait, open worker pulls. */
export function Queues(props: ScreenProps) {
  const fetch = useCallback((signal: AbortSignal) => props.clients.admin.getQueueStatus({}, { signal }), [props.clients]);
  const { value, ...panel } = usePanel<GetQueueStatusResponse>(props, fetch);
  return (
    <section aria-labelledby="queue-heading" className="panel">
      <h3 id="queue-heading">Work queue</h3>
      <ErrorAlert message={panel.error} />
      <ScrollRegion label="Work queue table">
        <table className="documents" data-testid="queues" aria-busy={panel.busy}>
          <caption className="visually-hidden">Depth and lag of each work queue</caption>
          <Heads names={["Queue", "Waiting", "In progress", "Redelivered", "Oldest waiting", "Worker pulls", "Summary"]} />
          <tbody>
            {value?.queues.map((q) => (
              <tr key={`${q.stream}/${q.consumer}`} data-testid="queue-row" data-pending={String(q.pending)}>
                <th scope="row">
                  {q.stream} / {q.consumer}
                </th>
                <td>{String(q.pending)}</td>
                <td>{String(q.inFlight)}</td>
                <td>{String(q.redelivered)}</td>
                <td>{q.pending ? durationWords(q.oldestPendingAge) : "—"}</td>
                <td>{q.consumersConnected}</td>
                <td>{queueWords(q)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <Refresh label="work queue" load={() => void panel.load()} busy={panel.busy} checkedAt={panel.checkedAt} />
    </section>
  );
}

/** What the token's tenant stores. */
export function Usage(props: ScreenProps) {
  const fetch = useCallback((signal: AbortSignal) => props.clients.admin.getUsage({}, { signal }), [props.clients]);
  const { value, ...panel } = usePanel<GetUsageResponse>(props, fetch);
  const rows: [string, string][] = value
    ? [
        ["Documents", String(value.documents)],
        ["Pages", String(value.pages)],
        ["Stored originals", byteWords(value.originalBytes)],
        ["Chunks", String(value.chunks)],
        ["Vectors", String(value.vectors)],
        ["Images", String(value.images)],
        ["Job records", String(value.jobs)],
      ]
    : [];
  return (
    <section aria-labelledby="usage-heading" className="panel">
      <h3 id="usage-heading">Usage{value ? ` of tenant ${value.tenant}` : ""}</h3>
      <ErrorAlert message={panel.error} />
      <dl className="usage" data-testid="usage">
        {rows.map(([term, amount]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{amount}</dd>
          </div>
        ))}
      </dl>
      <Refresh label="usage" load={() => void panel.load()} busy={panel.busy} checkedAt={panel.checkedAt} />
    </section>
  );
}

/** Jobs of the last 7 days: by state, time per stage, failures by reason. */
export function Statistics(props: ScreenProps) {
  const fetch = useCallback((signal: AbortSignal) => props.clients.admin.getJobStatistics({}, { signal }), [props.clients]);
  const { value, ...panel } = usePanel<GetJobStatisticsResponse>(props, fetch);
  return (
    <section aria-labelledby="stats-heading" className="panel" data-testid="statistics">
      <h3 id="stats-heading">Jobs of the last 7 days{value ? `: ${value.totalJobs}` : ""}</h3>
      <ErrorAlert message={panel.error} />
      {value && (
        <>
          <p>{value.states.map((s) => `${enumWords(JobState[s.state])}: ${s.count}`).join(" · ") || "No jobs."}</p>
          {value.stageDurations.length > 0 && (
            <ScrollRegion label="Time per stage table">
              <table className="documents">
                <caption>Time per stage</caption>
                <Heads names={["Stage", "Median", "95th percentile", "Longest", "Jobs"]} />
                <tbody>
                  {value.stageDurations.map((d) => (
                    <tr key={d.stage}>
                      <th scope="row">{enumWords(JobStage[d.stage])}</th>
                      <td>{d.p50Seconds.toFixed(2)} s</td>
                      <td>{d.p95Seconds.toFixed(2)} s</td>
                      <td>{d.maxSeconds.toFixed(2)} s</td>
                      <td>{d.samples}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
          )}
          {value.failures.length > 0 && (
            <ul aria-label="Failures by reason">
              {value.failures.map((f) => (
                <li key={f.reason}>
                  <strong>{f.reason}</strong> ({f.count}): {f.exampleMessage}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <Refresh label="job statistics" load={() => void panel.load()} busy={panel.busy} checkedAt={panel.checkedAt} />
    </section>
  );
}
