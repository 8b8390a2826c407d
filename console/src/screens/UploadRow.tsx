// One file's row on the upload screen: its progress live from WatchJob, cancel while it runs, and the
// password form when the PDF turns out to be encrypted.
import { useState } from "react";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { JobState, type Job } from "../gen/mivaa/jobs/v1/job_pb";
import type { ProcessingOptionsSchema } from "../gen/mivaa/jobs/v1/processing_options_pb";
import { progressFraction, progressLabel } from "../lib/progress";
import { ErrorAlert } from "./ErrorAlert";

export interface Item {
  id: number;
  file: File;
  /** The batch it was uploaded into ("" for none): an upload again with a password joins it too. */
  batch: string;
  /** Its own processing options (none when it joined a batch, which holds them, or kept the defaults). */
  options?: MessageInitShape<typeof ProcessingOptionsSchema>;
  job?: Job;
  error?: string;
  needsPassword?: boolean;
  status: "uploading" | "watching" | "done" | "failed";
}

export function jobError(job: Job): { message: string; needsPassword: boolean } | undefined {
  if (job.state !== JobState.FAILED || !job.error) return undefined;
  const needsPassword = job.error.reason === "PDF_ENCRYPTED";
  return {
    message: needsPassword ? "The PDF is encrypted: enter its password." : job.error.message || job.error.reason,
    needsPassword,
  };
}

export function UploadRow({ item, onCancel, onPassword }: { item: Item; onCancel: () => void; onPassword: (password: string) => void }) {
  const [password, setPassword] = useState("");
  const label = item.needsPassword
    ? "Needs its password"
    : item.job
      ? progressLabel(item.job)
      : item.status === "failed"
        ? "Not uploaded"
        : "Uploading";
  const fraction = item.job ? progressFraction(item.job) : 0.02;
  const running = item.status === "uploading" || item.status === "watching";
  return (
    <li className={`upload ${item.status}`} data-testid="upload-row" data-status={item.status}>
      <div className="upload-head">
        <strong>{item.file.name}</strong>
        <span className="status" aria-live="polite">
          {label}
        </span>
        {running && (
          <button type="button" onClick={onCancel} aria-label={`Cancel ${item.file.name}`}>
            Cancel
          </button>
        )}
      </div>
      <progress max={1} value={fraction} aria-label={`Progress of ${item.file.name}`} />
      <ErrorAlert message={item.error} />
      {item.needsPassword && (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            onPassword(password);
          }}
        >
          <label htmlFor={`pw-${item.id}`}>Password for {item.file.name}</label>
          <input id={`pw-${item.id}`} type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
          <button type="submit">Upload again</button>
        </form>
      )}
    </li>
  );
}
