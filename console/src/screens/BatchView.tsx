import { BatchState, type Batch } from "../gen/mivaa/jobs/v1/job_pb";
import { batchFailures, batchFraction, batchSummary } from "../lib/batch";
import { ErrorAlert } from "./ErrorAlert";

export interface BatchEntry {
  name: string;
  batch: Batch;
  error?: string;
}

const STATE_ATTRIBUTE: Record<BatchState, string> = {
  [BatchState.UNSPECIFIED]: "open",
  [BatchState.OPEN]: "open",
  [BatchState.RUNNING]: "running",
  [BatchState.DONE]: "done",
};

/** A batch's aggregate progress, live from WatchBatch, above the rows of its files. */
export function BatchView({ entry }: { entry: BatchEntry }) {
  const { batch } = entry;
  const summary = batchSummary(batch);
  const failures = batchFailures(batch);
  const id = `batch-${batch.name.replace("batches/", "")}`;
  const title = batch.displayName || batch.name;
  return (
    <section className="batch" aria-labelledby={id} data-testid="batch" data-state={STATE_ATTRIBUTE[batch.state]}>
      <div className="upload-head">
        <h3 id={id}>Batch: {title}</h3>
        <span className="status" aria-live="polite">
          {summary.state}
        </span>
      </div>
      <progress max={1} value={batchFraction(batch)} aria-label={`Progress of batch ${title}`} />
      <p className="batch-figures" data-testid="batch-figures">
        {[summary.documents, summary.pages, summary.eta].filter(Boolean).join(" · ")}
      </p>
      {failures.length > 0 && (
        <ul className="batch-failures" aria-label={`Failed files of batch ${title}`}>
          {failures.map((failure, index) => (
            <li key={`${failure.file}-${index}`}>
              <strong>{failure.file}</strong>: {failure.message}
            </li>
          ))}
        </ul>
      )}
      <ErrorAlert message={entry.error} />
    </section>
  );
}
