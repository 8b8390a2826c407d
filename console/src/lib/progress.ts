// What a job's progress bar and label say, from the Job of each WatchJob event.
import { JobStage, JobState, type Job } from "../gen/mivaa/jobs/v1/job_pb";

export const STAGE_LABELS: Record<JobStage, string> = {
  [JobStage.UNSPECIFIED]: "Waiting",
  [JobStage.QUEUED]: "Queued",
  [JobStage.EXTRACTING]: "Extracting text",
  [JobStage.OCR]: "Recognising scanned pages",
  [JobStage.EMBEDDING]: "Embedding",
  [JobStage.ENTITIES]: "Finding names and places",
  [JobStage.INDEXING]: "Indexing",
  [JobStage.DONE]: "Done",
};

const STATE_LABELS: Partial<Record<JobState, string>> = {
  [JobState.SUCCEEDED]: "Done",
  [JobState.PARTIALLY_SUCCEEDED]: "Done, some pages failed",
  [JobState.FAILED]: "Failed",
  [JobState.CANCELLED]: "Cancelled",
};

export function isFinished(job: Pick<Job, "state">): boolean {
  return [JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED, JobState.FAILED, JobState.CANCELLED].includes(job.state);
}

/** 0..1 across the pipeline: extraction (and OCR) by pages, then embedding and indexing. */
export function progressFraction(job: Job): number {
  if (isFinished(job)) return 1;
  const pages = job.pagesTotal > 0 ? job.pagesDone / job.pagesTotal : 0;
  switch (job.stage) {
    case JobStage.EXTRACTING:
    case JobStage.OCR:
      return 0.1 + 0.6 * Math.min(1, pages);
    case JobStage.EMBEDDING:
    case JobStage.ENTITIES:
      return 0.75;
    case JobStage.INDEXING:
      return 0.9;
    case JobStage.DONE:
      return 1;
    default:
      return 0.05;
  }
}

export function progressLabel(job: Job): string {
  const finished = STATE_LABELS[job.state];
  const parts = [finished ?? STAGE_LABELS[job.stage] ?? "Working"];
  if (job.pagesTotal > 0) parts.push(`${job.pagesDone}/${job.pagesTotal} pages`);
  if (job.ocrPagesTotal > 0) parts.push(`${job.ocrPagesDone}/${job.ocrPagesTotal} OCR pages`);
  if (job.chunksIndexed > 0) parts.push(`${job.chunksIndexed} chunks`);
  return parts.join(" · ");
}
