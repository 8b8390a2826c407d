// "Upload a new version" (write scope): UploadDocument with `parent`, so the file becomes the chain's
// next version (its own document, chunks and job), followed live; searches move to it once it is READY.
import { useState } from "react";
import type { ScreenProps } from "../App";
import type { Document } from "../gen/mivaa/search/v1/search_service_pb";
import type { Job } from "../gen/mivaa/jobs/v1/job_pb";
import { describeError, isUnauthenticated } from "../lib/errors";
import { documentHref } from "../lib/route";
import { uploadDocument } from "../lib/upload";
import { ErrorAlert } from "./ErrorAlert";
import { JobProgress, useJobWatch } from "./JobProgress";

const ACCEPT = "application/pdf,.pdf,image/png,image/jpeg,image/tiff,.png,.jpg,.jpeg,.tif,.tiff";

export function NewVersion(props: ScreenProps & { document: Document; onAdded: (job: Job) => void }) {
  const { clients, onAuthError, document, onAdded } = props;
  const [uploading, setUploading] = useState(false);
  const [error, setError] = useState("");
  const [added, setAdded] = useState<{ document: Document; created: boolean } | null>(null);
  const watch = useJobWatch(props, onAdded);

  async function upload(file: File) {
    setUploading(true);
    setError("");
    setAdded(null);
    watch.clear();
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const response = await uploadDocument(clients.baseUrl, clients.token, { filename: file.name, bytes, parent: document.name });
      if (response.document) setAdded({ document: response.document, created: response.created });
      if (response.created && response.job) void watch.follow(response.job);
    } catch (e) {
      if (isUnauthenticated(e)) return onAuthError();
      setError(describeError(e));
    } finally {
      setUploading(false);
    }
  }

  const busy = uploading || watch.running;
  return (
    <section aria-labelledby="new-version-heading" data-testid="new-version">
      <h3 id="new-version-heading">New version</h3>
      <p className="muted small">
        Upload a changed file as the next version of this document. Earlier versions stay listed; searches move to the
        new one once it is ready.
      </p>
      <label className={busy ? "button small-button disabled" : "button small-button"}>
        {uploading ? "Uploading…" : "Choose the new file"}
        <input
          type="file"
          accept={ACCEPT}
          className="visually-hidden"
          data-testid="new-version-input"
          disabled={busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = "";
            if (file) void upload(file);
          }}
        />
      </label>
      <ErrorAlert message={error} />
      {added && !added.created && (
        <p role="status">
          These bytes are stored already, as <a href={documentHref(added.document.name)}>{added.document.filename}</a>: no
          version was added.
        </p>
      )}
      {added?.created && (
        <p role="status" data-testid="new-version-link">
          <a href={documentHref(added.document.name)}>Open version {added.document.version || "new"}</a>
        </p>
      )}
      <JobProgress job={watch.job} error={watch.error} label="Progress of the new version" />
    </section>
  );
}
