// Reprocess (write scope): the document's stored file processed again with new options, as a new job
// followed live; the document stays READY, its old chunks searchable, until the new ones are committed.
import { useState } from "react";
import type { ScreenProps } from "../App";
import type { Document } from "../gen/mivaa/search/v1/search_service_pb";
import type { Job } from "../gen/mivaa/jobs/v1/job_pb";
import { describeError, errorInfo, isUnauthenticated } from "../lib/errors";
import { checkOptions, formFromOptions, refusedOption, type OptionRefusal } from "../lib/options";
import { ErrorAlert } from "./ErrorAlert";
import { JobProgress, useJobWatch } from "./JobProgress";
import { OptionsFields } from "./OptionsFields";

export function Reprocess(props: ScreenProps & { document: Document; onDone: (job: Job) => void }) {
  const { clients, onAuthError, document, onDone } = props;
  const [form, setForm] = useState(() => formFromOptions(document.processingOptions));
  const [password, setPassword] = useState("");
  const [needsPassword, setNeedsPassword] = useState(false);
  const [refusal, setRefusal] = useState<OptionRefusal | undefined>();
  const [error, setError] = useState("");
  const [sending, setSending] = useState(false);
  const watch = useJobWatch(props, onDone);
  const checked = checkOptions(form);
  const busy = sending || watch.running;

  async function reprocess() {
    if (!("options" in checked)) return;
    setSending(true);
    setError("");
    setRefusal(undefined);
    watch.clear();
    try {
      const response = await clients.extractor.reprocessDocument(
        { name: document.name, options: checked.options, password },
        { timeoutMs: 120_000 },
      );
      setNeedsPassword(false);
      if (response.job) void watch.follow(response.job);
    } catch (e) {
      if (isUnauthenticated(e)) return onAuthError();
      const refused = refusedOption(e);
      if (refused) setRefusal(refused);
      else setError(describeError(e));
      if (errorInfo(e)?.reason === "PDF_ENCRYPTED") setNeedsPassword(true);
    } finally {
      setSending(false);
    }
  }

  return (
    <section aria-labelledby="reprocess-heading" data-testid="reprocess">
      <h3 id="reprocess-heading">Reprocess</h3>
      <p className="muted small">
        Reads the stored file again with these options, as a new job. Searches keep finding the current text until the
        new one is ready.
      </p>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void reprocess();
        }}
      >
        <OptionsFields
          id="reprocess"
          form={form}
          refusal={refusal}
          onChange={(next) => {
            setForm(next);
            setRefusal(undefined);
          }}
        />
        {needsPassword && (
          <>
            <label htmlFor="reprocess-password">Password of the PDF</label>
            <input id="reprocess-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </>
        )}
        <button type="submit" className="primary" disabled={busy || !("options" in checked)}>
          {sending ? "Starting…" : watch.running ? "Reprocessing…" : "Reprocess"}
        </button>
        <ErrorAlert message={error} />
      </form>
      <JobProgress job={watch.job} error={watch.error} label={`Progress of reprocessing ${document.filename}`} />
    </section>
  );
}
