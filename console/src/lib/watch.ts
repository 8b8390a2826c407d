// Following a server stream to its end: WatchJob until the job is finished, WatchBatch until the batch
// is done. A dropped stream (network loss, gateway restart) is opened again after a short wait, and
// both watches start again from the current state, so nothing is missed and no reload is needed.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Batch, Job } from "../gen/mivaa/jobs/v1/job_pb";
import { isBatchDone } from "./batch";
import { isFinished } from "./progress";

export const RECONNECT_DELAY_MS = 1000;

interface StreamOptions {
  signal: AbortSignal;
  timeoutMs: number;
}

interface Watcher {
  watchJob(request: { name: string }, options: StreamOptions): AsyncIterable<{ event?: { job?: Job } }>;
}

interface BatchWatcher {
  watchBatch(request: { name: string }, options: StreamOptions): AsyncIterable<{ batch?: Batch }>;
}

interface FollowOptions {
  timeoutMs: number;
  reconnectDelayMs?: number;
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

/** Each item of the stream `open` starts goes to `onItem` until `isLast` says so, the stream ends or
 * `signal` aborts; a drop reopens it. Rejects with an error that is not a drop. */
async function follow<T>(
  open: (options: StreamOptions) => AsyncIterable<T | undefined>,
  signal: AbortSignal,
  onItem: (item: T) => void,
  isLast: (item: T) => boolean,
  options: FollowOptions,
): Promise<void> {
  for (;;) {
    try {
      for await (const item of open({ signal, timeoutMs: options.timeoutMs })) {
        if (!item) continue;
        onItem(item);
        if (isLast(item)) return;
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

async function* mapped<S, T>(stream: AsyncIterable<S>, pick: (response: S) => T | undefined): AsyncIterable<T | undefined> {
  for await (const response of stream) yield pick(response);
}

/** Resolves when the job is finished or `signal` aborts; rejects with an error that is not a drop. */
export function followJob(extractor: Watcher, name: string, signal: AbortSignal, onJob: (job: Job) => void, options: FollowOptions) {
  const open = (o: StreamOptions) => mapped(extractor.watchJob({ name }, o), (r) => r.event?.job);
  return follow(open, signal, onJob, isFinished, options);
}

/** Resolves when the batch is done or `signal` aborts; rejects with an error that is not a drop. */
export function followBatch(
  extractor: BatchWatcher,
  name: string,
  signal: AbortSignal,
  onBatch: (batch: Batch) => void,
  options: FollowOptions,
) {
  const open = (o: StreamOptions) => mapped(extractor.watchBatch({ name }, o), (r) => r.batch);
  return follow(open, signal, onBatch, isBatchDone, options);
}
