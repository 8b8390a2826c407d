import { useCallback, useEffect, useRef, useState } from "react";
import type { ScreenProps } from "../App";
import { STREAM_TIMEOUT_MS } from "../lib/api";
import { batchName } from "../lib/batch";
import { describeError, errorInfo, isUnauthenticated } from "../lib/errors";
import { filesFromDrop, filesFromInput, type PickedFiles } from "../lib/folders";
import { isFinished, progressFraction, progressLabel } from "../lib/progress";
import { uploadDocument } from "../lib/upload";
import { followBatch, followJob } from "../lib/watch";
import { JobState, type Job } from "../gen/mivaa/jobs/v1/job_pb";
import { BatchView, type BatchEntry } from "./BatchView";
import { ErrorAlert } from "./ErrorAlert";
import { Dropzone } from "./Parts";

interface Item {
  id: number;
  file: File;
  /** The batch it was uploaded into ("" for none): an upload again with a password joins it too. */
  batch: string;
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
  const [batches, setBatches] = useState<BatchEntry[]>([]);
  const [notice, setNotice] = useState("");
  const aborts = useRef(new Map<number, AbortController>());
  const batchWatches = useRef(new AbortController());
  useEffect(() => {
    const watches = batchWatches.current;
    return () => watches.abort();
  }, []);

  const updateBatch = useCallback((name: string, change: Partial<BatchEntry>) => {
    setBatches((all) => all.map((entry) => (entry.name === name ? { ...entry, ...change } : entry)));
  }, []);

  const watchBatch = useCallback(
    async (name: string) => {
      // Like the rows: a dropped WatchBatch is opened again and starts from the batch as it is.
      try {
        await followBatch(clients.extractor, name, batchWatches.current.signal, (batch) => updateBatch(name, { batch }), {
          timeoutMs: STREAM_TIMEOUT_MS,
        });
      } catch (error) {
        if (isUnauthenticated(error)) return onAuthError();
        updateBatch(name, { error: describeError(error) });
      }
    },
    [clients, onAuthError, updateBatch],
  );

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
    async (id: number, file: File, batch: string, password?: string) => {
      const abort = new AbortController();
      aborts.current.set(id, abort);
      update(id, { status: "uploading", error: undefined, needsPassword: false, job: undefined });
      try {
        const bytes = new Uint8Array(await file.arrayBuffer());
        const input = { filename: file.name, bytes, password, batch };
        const response = await uploadDocument(clients.baseUrl, clients.token, input, abort.signal);
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

  /** Several files or a folder go into a new batch, shown above their rows; one file goes alone. */
  async function add({ files, folder }: PickedFiles) {
    setNotice(files.length === 0 ? "Nothing to upload: only PDF files and PNG, JPEG or TIFF pictures are uploaded." : "");
    if (files.length === 0) return;
    let batch = "";
    if (files.length > 1 || folder) {
      try {
        const request = { displayName: batchName(files.length, folder), expectedDocuments: files.length };
        const created = (await clients.extractor.createBatch(request)).batch;
        if (created) {
          batch = created.name;
          setBatches((all) => [{ name: created.name, batch: created }, ...all]);
          void watchBatch(created.name);
        }
      } catch (error) {
        if (isUnauthenticated(error)) return onAuthError();
        setNotice(`No batch view: ${describeError(error)} The files are uploaded one by one.`);
      }
    }
    const added = files.map((file) => ({ id: nextId++, file, batch, status: "uploading" as const }));
    setItems((all) => [...added, ...all]);
    for (const item of added) void start(item.id, item.file, batch);
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
      <Dropzone onTransfer={(transfer) => void filesFromDrop(transfer).then(add)}>
        <p>Drop PDF files, pictures (PNG, JPEG, TIFF) or a folder here, or</p>
        <label className="button">
          choose files
          <input
            type="file"
            accept="application/pdf,.pdf,image/png,image/jpeg,image/tiff,.png,.jpg,.jpeg,.tif,.tiff"
            multiple
            className="visually-hidden"
            data-testid="file-input"
            onChange={(e) => {
              if (e.target.files) void add(filesFromInput(e.target.files));
              e.target.value = "";
            }}
          />
        </label>{" "}
        <label className="button">
          choose a folder
          <input
            type="file"
            multiple
            className="visually-hidden"
            data-testid="folder-input"
            ref={(input) => input?.setAttribute("webkitdirectory", "")}
            onChange={(e) => {
              if (e.target.files) void add(filesFromInput(e.target.files));
              e.target.value = "";
            }}
          />
        </label>
      </Dropzone>
      <ErrorAlert message={notice} />
      {batches.length > 0 && (
        <div className="batches">
          {batches.map((entry) => (
            <BatchView key={entry.name} entry={entry} />
          ))}
        </div>
      )}
      <ul className="uploads" aria-label="Uploads">
        {items.map((item) => (
          <UploadRow
            key={item.id}
            item={item}
            onCancel={() => void cancel(item)}
            onPassword={(p) => void start(item.id, item.file, item.batch, p)}
          />
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
