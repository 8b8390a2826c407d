// The admin screen's logic: which states a job filter asks ListJobs for, and health, queues,
// durations, sizes and retries in plain words.
import type { Duration } from "@bufbuild/protobuf/wkt";
import { HealthStatus, type BatchRetryJobsResponse, type QueueStatus } from "../gen/mivaa/admin/v1/admin_service_pb";
import { JobState, type Job } from "../gen/mivaa/jobs/v1/job_pb";

export const JOB_FILTERS: { label: string; states: JobState[] }[] = [
  { label: "All jobs", states: [] },
  { label: "Active (queued or running)", states: [JobState.QUEUED, JobState.RUNNING] },
  { label: "With problems (failed or partly)", states: [JobState.FAILED, JobState.PARTIALLY_SUCCEEDED] },
  { label: "Queued", states: [JobState.QUEUED] },
  { label: "Running", states: [JobState.RUNNING] },
  { label: "Succeeded", states: [JobState.SUCCEEDED] },
  { label: "Partly succeeded", states: [JobState.PARTIALLY_SUCCEEDED] },
  { label: "Failed", states: [JobState.FAILED] },
  { label: "Cancelled", states: [JobState.CANCELLED] },
];

/** A component's health (GetSystemHealth) in words; also its CSS class and data-health value. */
export type HealthWord = "up" | "degraded" | "down" | "not configured" | "unknown";

export function healthWord(status: HealthStatus): HealthWord {
  switch (status) {
    case HealthStatus.UP:
      return "up";
    case HealthStatus.DEGRADED:
      return "degraded";
    case HealthStatus.DOWN:
      return "down";
    case HealthStatus.NOT_CONFIGURED:
      return "not configured";
    default:
      return "unknown";
  }
}

/** A protobuf Duration as plain words: "0.4 s", "12 s", "3 min 5 s", "2 h 10 min". */
export function durationWords(duration: Duration | undefined): string {
  const seconds = Number(duration?.seconds ?? 0n) + (duration?.nanos ?? 0) / 1e9;
  if (seconds < 10) return `${seconds.toFixed(seconds < 1 ? 2 : 1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** A byte count in binary units, as people read them. */
export function byteWords(count: bigint | number): string {
  let value = Number(count);
  for (const unit of ["bytes", "KiB", "MiB", "GiB"]) {
    if (value < 1024 || unit === "GiB") return unit === "bytes" ? `${value} bytes` : `${value.toFixed(1)} ${unit}`;
    value /= 1024;
  }
  return `${count} bytes`;
}

/** Whether RetryJob takes this job (the service says FAILED_PRECONDITION for the rest). */
export function isRetryable(job: Job): boolean {
  return job.state === JobState.FAILED || job.state === JobState.CANCELLED;
}

/** What a bulk retry did, in one sentence, and the jobs it could not retry with why. */
export function batchRetryWords(response: BatchRetryJobsResponse): { summary: string; problems: string[] } {
  const jobs = (n: number) => `${n} failed job${n === 1 ? "" : "s"}`;
  let summary = response.retriedCount ? `Queued ${jobs(response.retriedCount)} again.` : "No failed job was retried.";
  if (response.failures.length) summary += ` ${response.failures.length} could not be retried.`;
  if (response.more) summary += " More failed jobs remain: retry again for the next ones.";
  const problems = response.failures.map((f) => `${f.job}: ${f.message || f.reason}`);
  return { summary, problems };
}

/** A queue's waiting work in one phrase. */
export function queueWords(queue: QueueStatus): string {
  if (!queue.pending && !queue.inFlight) return "Empty: nothing waits.";
  const waiting = `${queue.pending} waiting${queue.pending ? ` (oldest for ${durationWords(queue.oldestPendingAge)})` : ""}`;
  return `${waiting}, ${queue.inFlight} in progress.`;
}
