import { useCallback, useRef, useState } from "react";
import type { ScreenProps } from "../App";
import { STREAM_TIMEOUT_MS } from "../lib/api";
import { describeError, errorInfo, isUnauthenticated } from "../lib/errors";
import { isFinished, progressFraction, progressLabel } from "../lib/progress";
import { uploadDocument } from "../lib/upload";
import { followJob } from "../lib/watch";
import { JobState, type Job } from "../gen/mivaa/jobs/v1/job_pb";
import { ErrorAlert } from "./ErrorAlert";
import { Dropzone } from "./Parts";

interface Item {
  id: number;
  file: File;
  job?: Job;
  error?: string;
  needsPassword?: boolean;
  status: "uploading" | "watching" | "done" | "failed";
}

let nextId = 1;

function jobError(job: Job): { message: string; needsPassword: boolean } | undefined {
  if (job.state !== JobState.FAILED || !job.error) return undefined;
  const needsPassword = job.error.reason === "PDF_ENCRYPTED";
  return {
    message: needsPassword ? "The PDF is encrypted: enter its password." : job.error.message || job.error.reason,
    needsPassword,
  };
}

export function Upload({ clients, onAuthError }: ScreenProps) {
  const [items, setItems] = useState<Item[]>([]);
  const aborts = useRef(new Map<number, AbortController>());

  const update = useCallback((id: number, change: Partial<Item>) => {
    setItems((all) => all.map((item) => (item.id === id ? { ...item, ...change } : item)));
  }, []);

  const watch = useCallback(
    async (id: number, jobName: string, signal: AbortSignal) => {
      // Streams reconnect after a drop: WatchJob starts again from the job's current state.
      try {
        await followJob(
          clients.extractor,
          jobName,
          signal,
          (job) => {
            const failure = jobError(job);
            update(id, {
              job,
              status: isFinished(job) ? (failure ? "failed" : "done") : "watching",
              error: failure?.message,
              needsPassword: failure?.needsPassword,
            });
          },
          { timeoutMs: STREAM_TIMEOUT_MS },
        );
      } catch (error) {
        if (isUnauthenticated(error)) return onAuthError();
        update(id, { status: "failed", error: describeError(error) });
      }
    },
    [clients, onAuthError, update],
  );

  const start = useCallback(
    async (id: number, file: File, password?: string) => {
      const abort = new AbortController();
      aborts.current.set(id, abort);
      update(id, { status: "uploading", error: undefined, needsPassword: false, job: undefined });
      try {
        const bytes = new Uint8Array(await file.arrayBuffer());
        const response = await uploadDocument(clients.baseUrl, clients.token, { filename: file.name, bytes, password }, abort.signal);
        if (!response.job) throw new Error("the mesh returned no job");
        update(id, { status: "watching", job: response.job });
        await watch(id, response.job.name, abort.signal);
      } catch (error) {
        if (abort.signal.aborted) return;
        if (isUnauthenticated(error)) return onAuthError();
        update(id, {
          status: "failed",
          error: describeError(error),
          needsPassword: errorInfo(error)?.reason === "PDF_ENCRYPTED",
        });
      }
    },
    [clients, onAuthError, update, watch],
  );

  function add(files: FileList | File[]) {
    const added = Array.from(files).map((file) => ({ id: nextId++, file, status: "uploading" as const }));
    setItems((all) => [...added, ...all]);
    for (const item of added) void start(item.id, item.file);
  }

  async function cancel(item: Item) {
    aborts.current.get(item.id)?.abort();
    if (item.job && !isFinished(item.job)) {
      try {
        const { job } = await clients.extractor.cancelJob({ name: item.job.name });
        update(item.id, { job, status: "failed", error: "Cancelled." });
      } catch (error) {
        update(item.id, { status: "failed", error: describeError(error) });
      }
    } else update(item.id, { status: "failed", error: "Cancelled." });
  }

  return (
    <div>
      <h2>Upload</h2>
      <Dropzone onFiles={add}>
        <p>Drop PDF files here, or</p>
        <label className="button">
          choose files
          <input
            type="file"
            accept="application/pdf,.pdf"
            multiple
            className="visually-hidden"
            data-testid="file-input"
            onChange={(e) => {
              if (e.target.files) add(e.target.files);
              e.target.value = "";
            }}
          />
        </label>
      </Dropzone>
      <ul className="uploads" aria-label="Uploads">
        {items.map((item) => (
          <UploadRow key={item.id} item={item} onCancel={() => void cancel(item)} onPassword={(p) => void start(item.id, item.file, p)} />
        ))}
      </ul>
    </div>
  );
}

function UploadRow({ item, onCancel, onPassword }: { item: Item; onCancel: () => void; onPassword: (password: string) => void }) {
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
