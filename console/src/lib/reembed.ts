// Re-embedding a tenant (SearchService.StartReembedding, GetReembedding, CancelReembedding) in words:
// which served models can be chosen, and how far a re-embedding is. GetReembedding is unary, so the
// admin screen polls it while one runs (the gateway gives re-embedding calls a small budget: 2 a second).
import { Modality, type Model } from "../gen/mivaa/embedder/v1/embedder_service_pb";
import { Reembedding_State, type Reembedding } from "../gen/mivaa/search/v1/search_service_pb";
import { timeWords } from "./documents";

export const REEMBED_POLL_MS = 2000;

export interface ModelChoice {
  name: string;
  label: string;
  active: boolean;
}

/** The models that embed text (CLIP's text tower included), as the server counts them; the one
 * searches use now is marked (still offered: the server says why it refuses). */
export function modelChoices(models: Model[], activeModel: string): ModelChoice[] {
  return models
    .filter((m) => m.modality === Modality.TEXT || m.inputModalities.includes(Modality.TEXT))
    .map((m) => {
      const active = m.name === activeModel;
      const parts = [m.name, `${m.dimension} dimensions`];
      if (active) parts.push("in use");
      return { name: m.name, label: parts.join(" · "), active };
    });
}

export function isReembedRunning(reembedding: Pick<Reembedding, "state"> | undefined): boolean {
  return reembedding?.state === Reembedding_State.RUNNING;
}

export interface ReembedStatus {
  /** One word for the state, also the panel's data-state. */
  state: "running" | "succeeded" | "failed" | "cancelled" | "unknown";
  /** 0..1 of the chunks. */
  fraction: number;
  chunks: string;
  /** What it means for searches, in one sentence. */
  detail: string;
}

export function reembedStatus(r: Reembedding): ReembedStatus {
  const total = Number(r.chunksTotal);
  const done = Number(r.chunksDone);
  const chunks = `${done} of ${total} chunks embedded`;
  const from = r.fromModel || "the old model";
  switch (r.state) {
    case Reembedding_State.RUNNING:
      return {
        state: "running",
        fraction: total > 0 ? Math.min(1, done / total) : 0,
        chunks,
        detail: `Embedding with ${r.model}; searches use ${from} until every chunk has its new vector.`,
      };
    case Reembedding_State.SUCCEEDED: {
      const since = timeWords(r.switchTime);
      return { state: "succeeded", fraction: 1, chunks, detail: `Done: searches use ${r.model}${since ? ` since ${since}` : ""}.` };
    }
    case Reembedding_State.FAILED:
      return {
        state: "failed",
        fraction: total > 0 ? done / total : 0,
        chunks,
        detail: `Failed${r.error ? `: ${r.error}` : ""}. Searches keep using ${from}.`,
      };
    case Reembedding_State.CANCELLED:
      return { state: "cancelled", fraction: total > 0 ? done / total : 0, chunks, detail: `Cancelled. Searches keep using ${from}.` };
    default:
      return { state: "unknown", fraction: 0, chunks, detail: "" };
  }
}

interface ReembedReader {
  getReembedding(
    request: { name: string },
    options: { signal: AbortSignal },
  ): Promise<{ reembedding?: Reembedding; activeModel: string }>;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** Asks GetReembedding every `intervalMs` while the re-embedding runs; each answer goes to `onUpdate`.
 * Resolves once it has ended or `signal` aborts; rejects with the call's error. */
export async function pollReembedding(
  search: ReembedReader,
  name: string,
  signal: AbortSignal,
  onUpdate: (reembedding: Reembedding, activeModel: string) => void,
  intervalMs = REEMBED_POLL_MS,
): Promise<void> {
  while (!signal.aborted) {
    const response = await search.getReembedding({ name }, { signal });
    if (signal.aborted || !response.reembedding) return;
    onUpdate(response.reembedding, response.activeModel);
    if (!isReembedRunning(response.reembedding)) return;
    await pause(intervalMs, signal);
  }
}
