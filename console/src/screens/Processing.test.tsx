import { afterEach, describe, expect, it } from "vitest";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Modality, ModelSchema } from "../gen/mivaa/embedder/v1/embedder_service_pb";
import { ReembeddingSchema, Reembedding_State } from "../gen/mivaa/search/v1/search_service_pb";
import type { ScreenProps } from "../App";
import { DEFAULT_OPTIONS, refusedOption, type OptionRefusal } from "../lib/options";
import { refusal } from "../lib/test-errors";
import { OptionsFields } from "./OptionsFields";
import { ReembeddingPanel } from "./Reembedding";

afterEach(cleanup);

function Form({ refused }: { refused?: OptionRefusal }) {
  const [form, setForm] = useState(DEFAULT_OPTIONS);
  return <OptionsFields id="t" form={form} onChange={setForm} refusal={refused} />;
}

describe("OptionsFields", () => {
  it("says beside the chunk size that it is out of bounds while it is typed", () => {
    render(<Form />);
    const chunk = screen.getByLabelText("Chunk size (tokens, 32-256)");
    fireEvent.change(chunk, { target: { value: "300" } });
    expect(chunk.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByTestId("chunkTokens-error").textContent).toMatch(/from 32 to 256/);
    fireEvent.change(chunk, { target: { value: "128" } });
    expect(chunk.getAttribute("aria-invalid")).toBeNull();
    expect(screen.queryByTestId("chunkTokens-error")).toBeNull();
  });

  it("shows the server's refusal with its reason beside the field it names", () => {
    const error = refusal("PROCESSING_OPTION_INVALID", "options.ocr_languages xyz is not a language Tesseract reads.", Code.InvalidArgument, {
      field: "options.ocr_languages",
    });
    render(<Form refused={refusedOption(error)} />);
    const note = screen.getByTestId("languages-error");
    expect(note.getAttribute("role")).toBe("alert");
    expect(note.textContent).toMatch(/xyz is not a language Tesseract reads\. PROCESSING_OPTION_INVALID · options\.ocr_languages$/);
    expect(screen.getByLabelText("OCR languages").getAttribute("aria-describedby")).toBe("t-languages-error");
  });
});

describe("ReembeddingPanel", () => {
  const models = [
    create(ModelSchema, { name: "all-MiniLM-L6-v2", dimension: 384, modality: Modality.TEXT }),
    create(ModelSchema, { name: "minilm-fp32", dimension: 384, modality: Modality.TEXT }),
  ];

  it("starts with the chosen model, shows the refusal in words, and cancels a running one", async () => {
    const started: string[] = [];
    let cancelled = "";
    const running = create(ReembeddingSchema, {
      name: "reembeddings/r1",
      model: "minilm-fp32",
      fromModel: "all-MiniLM-L6-v2",
      state: Reembedding_State.RUNNING,
      chunksDone: 3n,
      chunksTotal: 12n,
    });
    const clients = {
      embedder: { listModels: async () => ({ models }) },
      search: {
        // None before the start; then the running one, as the panel polls it.
        getReembedding: async () => {
          if (started.length < 2) throw refusal("REEMBEDDING_NOT_FOUND", "none", Code.NotFound);
          return { reembedding: running, activeModel: "all-MiniLM-L6-v2" };
        },
        startReembedding: async ({ model }: { model: string }) => {
          started.push(model);
          if (model === "all-MiniLM-L6-v2") throw refusal("MODEL_ALREADY_ACTIVE", "raw");
          return { reembedding: running };
        },
        cancelReembedding: async ({ name }: { name: string }) => {
          cancelled = name;
          return { reembedding: create(ReembeddingSchema, { ...running, state: Reembedding_State.CANCELLED }) };
        },
      },
    } as unknown as ScreenProps["clients"];
    render(<ReembeddingPanel clients={clients} onAuthError={() => {}} />);
    await screen.findByRole("option", { name: "minilm-fp32 · 384 dimensions" });
    expect(screen.getByTestId("active-model").textContent).toMatch(/No re-embedding has run/);

    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "all-MiniLM-L6-v2" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Start re-embedding" })));
    expect((await screen.findByRole("alert")).textContent).toBe("Searches use this model already: choose another one.");

    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "minilm-fp32" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Start re-embedding" })));
    expect(started).toEqual(["all-MiniLM-L6-v2", "minilm-fp32"]);
    const status = await screen.findByTestId("reembed-status");
    expect(status.dataset.state).toBe("running");
    expect(status.textContent).toMatch(/3 of 12 chunks embedded/);
    expect(screen.queryByRole("alert")).toBeNull();

    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Cancel re-embedding" })));
    expect(cancelled).toBe("reembeddings/r1");
    expect(screen.getByTestId("reembed-status").dataset.state).toBe("cancelled");
  });
});
