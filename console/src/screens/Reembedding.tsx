// The admin screen's re-embedding panel: the tenant's latest re-embedding with its progress (polled:
// GetReembedding is unary), starting one with a text model the embedder serves (ListModels), and
// cancelling a running one. The server's refusals come back in plain words (lib/errors).
import { useCallback, useEffect, useState } from "react";
import type { ScreenProps } from "../App";
import type { Model } from "../gen/mivaa/embedder/v1/embedder_service_pb";
import type { Reembedding } from "../gen/mivaa/search/v1/search_service_pb";
import { errorInfo } from "../lib/errors";
import { isReembedRunning, modelChoices, pollReembedding, reembedStatus } from "../lib/reembed";
import { timeWords } from "../lib/documents";
import { useCall } from "../lib/useCall";
import { ErrorAlert } from "./ErrorAlert";

function Progress({ reembedding }: { reembedding: Reembedding }) {
  const status = reembedStatus(reembedding);
  return (
    <div className="reembed-status" data-testid="reembed-status" data-state={status.state}>
      <p>
        <strong>{reembedding.model}</strong> <span className="muted">(from {reembedding.fromModel || "the old model"})</span>:{" "}
        <span aria-live="polite">{status.state}</span>
      </p>
      <progress max={1} value={status.fraction} aria-label={`Progress of re-embedding with ${reembedding.model}`} />
      <p className="small">
        {status.chunks} · started {timeWords(reembedding.createTime)}
      </p>
      <p>{status.detail}</p>
    </div>
  );
}

export function ReembeddingPanel({ clients, onAuthError }: ScreenProps) {
  const [models, setModels] = useState<Model[]>([]);
  const [latest, setLatest] = useState<Reembedding | null>(null);
  const [activeModel, setActiveModel] = useState("");
  const [chosen, setChosen] = useState("");
  const loading = useCall(onAuthError);
  const starting = useCall(onAuthError);
  const cancelling = useCall(onAuthError);
  const polling = useCall(onAuthError);
  const { run: poll } = polling;
  const { run: load } = loading;

  const follow = useCallback(
    (name: string) =>
      void poll((signal) =>
        pollReembedding(clients.search, name, signal, (r, active) => {
          setLatest(r);
          setActiveModel(active);
        }),
      ),
    [clients, poll],
  );

  useEffect(() => {
    void load(async (signal) => {
      setModels((await clients.embedder.listModels({}, { signal })).models);
      try {
        const response = await clients.search.getReembedding({ name: "reembeddings/latest" }, { signal });
        setLatest(response.reembedding ?? null);
        setActiveModel(response.activeModel);
        if (isReembedRunning(response.reembedding)) follow(response.reembedding!.name);
      } catch (e) {
        if (errorInfo(e)?.reason !== "REEMBEDDING_NOT_FOUND") throw e; // none yet: nothing to show
      }
    });
  }, [clients, follow, load]);

  const choices = modelChoices(models, activeModel);
  const model = chosen || choices.find((c) => !c.active)?.name || choices[0]?.name || "";
  const running = isReembedRunning(latest ?? undefined);
  const start = () =>
    starting.run(async (signal) => {
      const started = (await clients.search.startReembedding({ model }, { signal, timeoutMs: 60_000 })).reembedding;
      if (started) {
        setLatest(started);
        follow(started.name);
      }
    });
  const cancel = () =>
    cancelling.run(async (signal) => {
      if (!latest) return;
      const cancelled = (await clients.search.cancelReembedding({ name: latest.name }, { signal })).reembedding;
      if (cancelled) setLatest(cancelled);
    });

  return (
    <section aria-labelledby="reembed-heading" className="panel reembedding" data-testid="reembedding">
      <h3 id="reembed-heading">Re-embedding</h3>
      <p className="muted small">
        Embeds every chunk of this tenant with another text model beside the live vectors. Searches keep answering with
        the current model and switch at once when every chunk is done.
      </p>
      <p data-testid="active-model">
        {activeModel ? (
          <>
            Searches use <strong>{activeModel}</strong>.
          </>
        ) : (
          "No re-embedding has run for this tenant: searches use the mesh's default text model."
        )}
      </p>
      <ErrorAlert message={loading.error || polling.error} />
      {latest && <Progress reembedding={latest} />}
      {running && (
        <button type="button" className="danger small-button" onClick={() => void cancel()} disabled={cancelling.busy}>
          {cancelling.busy ? "Cancelling…" : "Cancel re-embedding"}
        </button>
      )}
      <ErrorAlert message={cancelling.error} />
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <label htmlFor="reembed-model">Model</label>
        <select id="reembed-model" value={model} onChange={(e) => setChosen(e.target.value)}>
          {choices.map((choice) => (
            <option key={choice.name} value={choice.name}>
              {choice.label}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={!model || starting.busy || running}>
          {starting.busy ? "Starting…" : "Start re-embedding"}
        </button>
      </form>
      <ErrorAlert message={starting.error} />
    </section>
  );
}
