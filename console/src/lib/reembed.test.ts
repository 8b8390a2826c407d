import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Modality, ModelSchema } from "../gen/mivaa/embedder/v1/embedder_service_pb";
import { ReembeddingSchema, Reembedding_State, type Reembedding } from "../gen/mivaa/search/v1/search_service_pb";
import { describeError } from "./errors";
import { isReembedRunning, modelChoices, pollReembedding, reembedStatus } from "./reembed";
import { refusal } from "./test-errors";

const running = (done: number, total = 40) =>
  create(ReembeddingSchema, {
    name: "reembeddings/r1",
    model: "minilm-fp32",
    fromModel: "all-MiniLM-L6-v2",
    state: Reembedding_State.RUNNING,
    chunksDone: BigInt(done),
    chunksTotal: BigInt(total),
  });

describe("re-embedding", () => {
  it("offers the text models (CLIP's text tower too), marking the one in use", () => {
    const models = [
      create(ModelSchema, { name: "all-MiniLM-L6-v2", dimension: 384, modality: Modality.TEXT }),
      create(ModelSchema, { name: "tiny-clip", dimension: 64, modality: Modality.IMAGE, inputModalities: [Modality.TEXT, Modality.IMAGE] }),
      create(ModelSchema, { name: "pictures-only", dimension: 512, modality: Modality.IMAGE, inputModalities: [Modality.IMAGE] }),
    ];
    expect(modelChoices(models, "all-MiniLM-L6-v2")).toEqual([
      { name: "all-MiniLM-L6-v2", label: "all-MiniLM-L6-v2 · 384 dimensions · in use", active: true },
      { name: "tiny-clip", label: "tiny-clip · 64 dimensions", active: false },
    ]);
  });

  it("puts progress and what it means for searches in words", () => {
    const status = reembedStatus(running(10));
    expect(status).toEqual({
      state: "running",
      fraction: 0.25,
      chunks: "10 of 40 chunks embedded",
      detail: "Embedding with minilm-fp32; searches use all-MiniLM-L6-v2 until every chunk has its new vector.",
    });
    const done = create(ReembeddingSchema, { ...running(40), state: Reembedding_State.SUCCEEDED });
    expect(reembedStatus(done)).toMatchObject({ state: "succeeded", fraction: 1, detail: "Done: searches use minilm-fp32." });
    const failed = create(ReembeddingSchema, { ...running(5), state: Reembedding_State.FAILED, error: "the embedder went away" });
    expect(reembedStatus(failed).detail).toBe("Failed: the embedder went away. Searches keep using all-MiniLM-L6-v2.");
    const cancelled = create(ReembeddingSchema, { ...running(5), state: Reembedding_State.CANCELLED });
    expect(reembedStatus(cancelled)).toMatchObject({ state: "cancelled", detail: "Cancelled. Searches keep using all-MiniLM-L6-v2." });
    expect(isReembedRunning(running(0))).toBe(true);
    expect(isReembedRunning(cancelled)).toBe(false);
  });

  it("polls while it runs and stops when it ends", async () => {
    const answers = [running(0), running(20), create(ReembeddingSchema, { ...running(40), state: Reembedding_State.SUCCEEDED })];
    const asked: string[] = [];
    const search = {
      async getReembedding({ name }: { name: string }) {
        asked.push(name);
        return { reembedding: answers.shift(), activeModel: answers.length ? "all-MiniLM-L6-v2" : "minilm-fp32" };
      },
    };
    const seen: [number, string][] = [];
    await pollReembedding(search, "reembeddings/r1", new AbortController().signal, (r: Reembedding, active) => seen.push([Number(r.chunksDone), active]), 1);
    expect(asked).toEqual(["reembeddings/r1", "reembeddings/r1", "reembeddings/r1"]);
    expect(seen).toEqual([
      [0, "all-MiniLM-L6-v2"],
      [20, "all-MiniLM-L6-v2"],
      [40, "minilm-fp32"],
    ]);
  });

  it("stops polling when the screen goes away", async () => {
    const abort = new AbortController();
    let calls = 0;
    const search = {
      async getReembedding() {
        calls += 1;
        abort.abort();
        return { reembedding: running(1), activeModel: "a" };
      },
    };
    await pollReembedding(search, "reembeddings/r1", abort.signal, () => undefined, 10_000);
    expect(calls).toBe(1);
  });

  it("says each refusal in plain words", () => {
    const words = (reason: string, code = Code.InvalidArgument, metadata: Record<string, string> = {}) =>
      describeError(refusal(reason, "raw server text", code, metadata));
    expect(words("MODEL_ALREADY_ACTIVE")).toBe("Searches use this model already: choose another one.");
    expect(words("REEMBEDDING_RUNNING", Code.FailedPrecondition)).toMatch(/already running: wait for it to end or cancel it/);
    expect(words("MODEL_NOT_SERVED", Code.InvalidArgument, { model: "nope", available: "a,b" })).toBe(
      "The embedder serves no text model named nope (it serves a, b).",
    );
    expect(
      words("MODEL_DIMENSION_MISMATCH", Code.InvalidArgument, { model: "tiny-clip", model_dimension: "64", stored_dimension: "384" }),
    ).toBe("tiny-clip makes vectors of 64 dimensions, but this tenant's are stored with 384: re-embedding needs a model of the same dimension.");
    expect(words("REEMBEDDING_NOT_RUNNING", Code.FailedPrecondition)).toBe("That re-embedding has already ended.");
  });
});
