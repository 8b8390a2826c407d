import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { Code } from "@connectrpc/connect";
import { ImageExtraction, OcrMode, TableExtraction } from "../gen/mivaa/jobs/v1/processing_options_pb";
import type { ScreenProps } from "../App";
import { refusal } from "../lib/test-errors";
import { Upload } from "./Upload";

function pdf(name: string): File {
  const file = new File([new Uint8Array([37, 80, 68, 70])], name, { type: "application/pdf" });
  Object.defineProperty(file, "webkitRelativePath", { value: "" }); // jsdom's File has none
  return file;
}
let fetches = 0;

beforeEach(() => {
  fetches = 0;
  // No mesh here: an upload that gets as far as the network fails, which these tests do not need.
  vi.stubGlobal("fetch", () => {
    fetches += 1;
    return Promise.reject(new TypeError("no network in this test"));
  });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderUpload(createBatch: (request: unknown) => Promise<unknown>) {
  const clients = { baseUrl: "https://mesh", token: "t", extractor: { createBatch, watchBatch: async function* () {} } };
  render(<Upload clients={clients as unknown as ScreenProps["clients"]} onAuthError={() => {}} />);
  fireEvent.change(screen.getByLabelText("Chunk size (tokens, 32-256)"), { target: { value: "64" } });
  fireEvent.click(screen.getByLabelText("Keep tables as tables"));
}

async function drop(files: File[]) {
  await act(async () => fireEvent.change(screen.getByTestId("file-input"), { target: { files } }));
}

describe("Upload with processing options", () => {
  it("gives several files' batch the options", async () => {
    const requests: unknown[] = [];
    renderUpload(async (request) => {
      requests.push(request);
      return { batch: { name: "batches/b1", displayName: "2 files", expectedDocuments: 2 } };
    });
    await drop([pdf("a.pdf"), pdf("b.pdf")]);
    expect(requests).toEqual([
      {
        displayName: "2 files",
        expectedDocuments: 2,
        options: { ocrMode: OcrMode.AUTO, ocrLanguages: [], images: ImageExtraction.ON, tables: TableExtraction.OFF, chunkTokens: 64 },
      },
    ]);
    expect(screen.getAllByTestId("upload-row")).toHaveLength(2); // both uploads started, into the batch
  });

  it("uploads nothing when the server refuses the batch's options, and says which", async () => {
    renderUpload(async () => {
      throw refusal("PROCESSING_OPTION_INVALID", "options.chunk_tokens must be 0 (the default) or between 32 and 256.", Code.InvalidArgument, {
        field: "options.chunk_tokens",
      });
    });
    await drop([pdf("a.pdf"), pdf("b.pdf")]);
    expect(fetches).toBe(0);
    expect(screen.getByText("Nothing uploaded: the server refused the processing options.")).toBeTruthy();
    expect(screen.getByTestId("chunkTokens-error").textContent).toMatch(/^The server refused the chunk size: must be 0/);
  });

  it("uploads nothing while a field is wrong", async () => {
    renderUpload(async () => ({}));
    fireEvent.change(screen.getByLabelText("Chunk size (tokens, 32-256)"), { target: { value: "8" } });
    await drop([pdf("a.pdf")]);
    expect(fetches).toBe(0);
    expect(screen.getByText("Nothing uploaded: correct the processing options first.")).toBeTruthy();
  });
});
