import { useCallback, useEffect, useRef, useState } from "react";
import type { ScreenProps } from "../App";
import { STREAM_TIMEOUT_MS } from "../lib/api";
import { batchName } from "../lib/batch";
import { describeError, errorInfo, isUnauthenticated } from "../lib/errors";
import { filesFromDrop, filesFromInput, type PickedFiles } from "../lib/folders";
import { checkOptions, DEFAULT_OPTIONS, isDefaultForm, refusedOption, type OptionRefusal } from "../lib/options";
import { isFinished } from "../lib/progress";
import { uploadDocument } from "../lib/upload";
import { followBatch, followJob } from "../lib/watch";
import { BatchView, type BatchEntry } from "./BatchView";
import { ErrorAlert } from "./ErrorAlert";
import { OptionsFields } from "./OptionsFields";
import { Dropzone } from "./Parts";
import { jobError, UploadRow, type Item } from "./UploadRow";

let nextId = 1;

export function Upload({ clients, onAuthError }: ScreenProps) {
  const [items, setItems] = useState<Item[]>([]);
  const [batches, setBatches] = useState<BatchEntry[]>([]);
  const [notice, setNotice] = useState("");
  const [form, setForm] = useState(DEFAULT_OPTIONS);
  const [optionsOpen, setOptionsOpen] = useState(false);
  const [refusal, setRefusal] = useState<OptionRefusal | undefined>();
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
    async (item: Pick<Item, "id" | "file" | "batch" | "options">, password?: string) => {
      const { id, file, batch, options } = item;
      const abort = new AbortController();
      aborts.current.set(id, abort);
      update(id, { status: "uploading", error: undefined, needsPassword: false, job: undefined });
      try {
        const bytes = new Uint8Array(await file.arrayBuffer());
        const input = { filename: file.name, bytes, password, batch, options };
        const response = await uploadDocument(clients.baseUrl, clients.token, input, abort.signal);
        if (!response.job) throw new Error("the mesh returned no job");
        update(id, { status: "watching", job: response.job });
        await watch(id, response.job.name, abort.signal);
      } catch (error) {
        if (abort.signal.aborted) return;
        if (isUnauthenticated(error)) return onAuthError();
        const refused = refusedOption(error);
        if (refused) {
          setRefusal(refused);
          setOptionsOpen(true);
        }
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
    // Options are checked before anything is sent; the defaults are not sent at all (the server's own).
    const checked = checkOptions(form);
    if (!("options" in checked)) {
      setOptionsOpen(true);
      setNotice("Nothing uploaded: correct the processing options first.");
      return;
    }
    const options = isDefaultForm(form) ? undefined : checked.options;
    setRefusal(undefined);
    let batch = "";
    if (files.length > 1 || folder) {
      try {
        const request = { displayName: batchName(files.length, folder), expectedDocuments: files.length, options };
        const created = (await clients.extractor.createBatch(request)).batch;
        if (created) {
          batch = created.name;
          setBatches((all) => [{ name: created.name, batch: created }, ...all]);
          void watchBatch(created.name);
        }
      } catch (error) {
        if (isUnauthenticated(error)) return onAuthError();
        const refused = refusedOption(error);
        if (refused) {
          setRefusal(refused);
          setOptionsOpen(true);
          setNotice("Nothing uploaded: the server refused the processing options.");
          return;
        }
        setNotice(`No batch view: ${describeError(error)} The files are uploaded one by one.`);
      }
    }
    // Uploads in a batch take the batch's options; the rest carry their own.
    const own = batch ? undefined : options;
    const added = files.map((file) => ({ id: nextId++, file, batch, options: own, status: "uploading" as const }));
    setItems((all) => [...added, ...all]);
    for (const item of added) void start(item);
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
      <details className="options panel" open={optionsOpen} onToggle={(e) => setOptionsOpen(e.currentTarget.open)}>
        <summary>
          Processing options <span className="muted">({isDefaultForm(form) ? "the server's defaults" : "changed"})</span>
        </summary>
        <p className="muted small">Used for the next files you choose or drop (a batch of several files keeps them too).</p>
        <OptionsFields
          id="upload"
          form={form}
          refusal={refusal}
          onChange={(next) => {
            setForm(next);
            setRefusal(undefined);
          }}
        />
      </details>
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
            onPassword={(p) => void start(item, p)}
          />
        ))}
      </ul>
    </div>
  );
}
