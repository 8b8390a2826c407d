// Following a job with WatchJob: every event's job goes to `onJob` until a terminal state. A dropped
// stream (network loss, gateway restart) is opened again after a short wait, and WatchJob starts
// again from the job's current state, so nothing is missed and no reload is needed.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Job } from "../gen/mivaa/jobs/v1/job_pb";
import { isFinished } from "./progress";

export const RECONNECT_DELAY_MS = 1000;

interface Watcher {
  watchJob(request: { name: string }, options: { signal: AbortSignal; timeoutMs: number }): AsyncIterable<{ event?: { job?: Job } }>;
}

export function isDropped(error: unknown): boolean {
  return error instanceof ConnectError && [Code.Unavailable, Code.Unknown, Code.Internal].includes(error.code);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** Resolves when the job is finished or `signal` aborts; rejects with an error that is not a drop. */
export async function followJob(
  extractor: Watcher,
  name: string,
  signal: AbortSignal,
  onJob: (job: Job) => void,
  options: { timeoutMs: number; reconnectDelayMs?: number },
): Promise<void> {
  for (;;) {
    try {
      for await (const response of extractor.watchJob({ name }, { signal, timeoutMs: options.timeoutMs })) {
        const job = response.event?.job;
        if (!job) continue;
        onJob(job);
        if (isFinished(job)) return;
      }
      return;
    } catch (error) {
      if (signal.aborted) return;
      if (!isDropped(error)) throw error;
      await pause(options.reconnectDelayMs ?? RECONNECT_DELAY_MS, signal);
      if (signal.aborted) return;
    }
  }
}
