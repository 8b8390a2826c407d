// What a batch's progress bar says, from the Batch of each WatchBatch update: documents finished and
// failed of the total, pages, and the time left at the rate so far. The server computes the counts;
// this only puts them in words.
import { BatchState, type Batch, type BatchProgress } from "../gen/mivaa/jobs/v1/job_pb";
import { describeReason } from "./errors";

const STATE_WORDS: Record<BatchState, string> = {
  [BatchState.UNSPECIFIED]: "Waiting",
  [BatchState.OPEN]: "Waiting for uploads",
  [BatchState.RUNNING]: "Running",
  [BatchState.DONE]: "Done",
};

export function isBatchDone(batch: Pick<Batch, "state">): boolean {
  return batch.state === BatchState.DONE;
}

export function finishedDocuments(progress: BatchProgress): number {
  return (
    progress.documentsSucceeded + progress.documentsPartiallySucceeded + progress.documentsFailed + progress.documentsCancelled
  );
}

/** 0..1: documents finished of the documents in the batch (of those expected while uploads come). */
export function batchFraction(batch: Batch): number {
  if (isBatchDone(batch)) return 1;
  const progress = batch.progress;
  const total = Math.max(progress?.documentsTotal ?? 0, batch.expectedDocuments);
  return progress && total > 0 ? finishedDocuments(progress) / total : 0;
}

/** "about 45 s", "about 3 min", "about 1 h 05 min"; "" when unknown. */
export function formatEta(seconds: number): string {
  if (!(seconds > 0) || !Number.isFinite(seconds)) return "";
  const whole = Math.round(seconds);
  if (whole < 60) return `about ${whole} s`;
  if (whole < 3600) return `about ${Math.round(whole / 60)} min`;
  const minutes = Math.round((whole % 3600) / 60);
  return `about ${Math.floor(whole / 3600)} h ${String(minutes).padStart(2, "0")} min`;
}

export interface BatchSummary {
  state: string;
  documents: string;
  pages: string;
  eta: string;
}

export function batchSummary(batch: Batch): BatchSummary {
  const progress = batch.progress;
  const total = Math.max(progress?.documentsTotal ?? 0, batch.expectedDocuments);
  const finished = progress ? finishedDocuments(progress) : 0;
  const documents = [`${finished} of ${total} documents finished`];
  if (progress?.documentsFailed) documents.push(`${progress.documentsFailed} failed`);
  if (progress?.documentsCancelled) documents.push(`${progress.documentsCancelled} cancelled`);
  const pages = progress && progress.pagesTotal > 0 ? [`${progress.pagesDone}/${progress.pagesTotal} pages`] : [];
  if (progress?.chunksIndexed) pages.push(`${progress.chunksIndexed} chunks`);
  const eta = isBatchDone(batch) ? "" : formatEta(progress?.etaSeconds ?? 0);
  return {
    state: STATE_WORDS[batch.state] ?? "Working",
    documents: documents.join(" · "),
    pages: pages.join(" · "),
    eta: eta ? `${eta} left` : "",
  };
}

/** The batch's failed files in plain words. */
export function batchFailures(batch: Batch): { file: string; message: string }[] {
  return (batch.progress?.failures ?? []).map((failure) => ({
    file: failure.filename || failure.job,
    message: describeReason(failure.error?.reason ?? "", failure.error?.message ?? ""),
  }));
}

/** The name a new batch gets: the dropped folder's, else how many files it holds. */
export function batchName(count: number, folder: string): string {
  return folder || `${count} files`;
}
