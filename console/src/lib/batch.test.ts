import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BatchSchema, BatchState, type Batch } from "../gen/mivaa/jobs/v1/job_pb";
import { batchFailures, batchFraction, batchName, batchSummary, formatEta, isBatchDone } from "./batch";
import { filesFromDrop, filesFromInput } from "./folders";
import { followBatch } from "./watch";

function batch(state: BatchState, progress: Record<string, unknown> = {}, expectedDocuments = 0): Batch {
  return create(BatchSchema, { name: "batches/1", displayName: "manuals", state, expectedDocuments, progress });
}

describe("batch progress", () => {
  it("counts finished and failed documents of the total, with pages and the time left", () => {
    const running = batch(BatchState.RUNNING, {
      documentsTotal: 4,
      documentsSucceeded: 1,
      documentsFailed: 1,
      documentsRunning: 2,
      pagesDone: 30,
      pagesTotal: 120,
      chunksIndexed: 80,
      etaSeconds: 185,
    });
    expect(batchFraction(running)).toBeCloseTo(0.5);
    expect(batchSummary(running)).toEqual({
      state: "Running",
      documents: "2 of 4 documents finished · 1 failed",
      pages: "30/120 pages · 80 chunks",
      eta: "about 3 min left",
    });
  });
  it("measures against the expected uploads while they still come in", () => {
    const open = batch(BatchState.OPEN, { documentsTotal: 1, documentsSucceeded: 1 }, 4);
    expect(batchFraction(open)).toBeCloseTo(0.25);
    expect(batchSummary(open).documents).toBe("1 of 4 documents finished");
    expect(batchSummary(open).state).toBe("Waiting for uploads");
  });
  it("is full and shows no time left once done", () => {
    const done = batch(BatchState.DONE, { documentsTotal: 2, documentsSucceeded: 2, pagesDone: 5, pagesTotal: 5, etaSeconds: 3 });
    expect(isBatchDone(done)).toBe(true);
    expect(batchFraction(done)).toBe(1);
    expect(batchSummary(done)).toMatchObject({ state: "Done", eta: "", pages: "5/5 pages" });
    expect(batchFraction(batch(BatchState.OPEN))).toBe(0);
  });
  it("says the time left in words", () => {
    expect(formatEta(0)).toBe("");
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe("");
    expect(formatEta(44.6)).toBe("about 45 s");
    expect(formatEta(150)).toBe("about 3 min");
    expect(formatEta(3900)).toBe("about 1 h 05 min");
  });
  it("puts failed files in plain words from their reason", () => {
    const failed = batch(BatchState.DONE, {
      documentsFailed: 2,
      failures: [
        { filename: "broken.pdf", error: { reason: "PDF_UNREADABLE", message: "server text" } },
        { filename: "", job: "jobs/7", error: { reason: "SOMETHING_NEW", message: "The embedder gave up." } },
      ],
    });
    expect(batchFailures(failed)).toEqual([
      { file: "broken.pdf", message: "The PDF is damaged and cannot be read." },
      { file: "jobs/7", message: "The embedder gave up." },
    ]);
  });
  it("names a batch after its folder", () => {
    expect(batchName(3, "manuals")).toBe("manuals");
    expect(batchName(3, "")).toBe("3 files");
  });
});

describe("followBatch", () => {
  it("opens the stream again after a drop and ends when the batch is done", async () => {
    let opened = 0;
    const extractor = {
      async *watchBatch() {
        opened += 1;
        yield { batch: batch(BatchState.RUNNING) };
        if (opened === 1) throw new ConnectError("network lost", Code.Unavailable);
        yield { batch: batch(BatchState.DONE) };
        yield { batch: batch(BatchState.DONE) }; // never read: the batch is done
      },
    };
    const seen: Batch[] = [];
    await followBatch(extractor, "batches/1", new AbortController().signal, (b) => seen.push(b), { timeoutMs: 1000, reconnectDelayMs: 1 });
    expect(opened).toBe(2);
    expect(seen.map((b) => b.state)).toEqual([BatchState.RUNNING, BatchState.RUNNING, BatchState.DONE]);
  });
  it("passes on an error that is not a drop", async () => {
    const extractor = {
      async *watchBatch(): AsyncGenerator<{ batch?: Batch }> {
        throw new ConnectError("gone", Code.NotFound);
      },
    };
    await expect(followBatch(extractor, "batches/1", new AbortController().signal, () => {}, { timeoutMs: 1000 })).rejects.toThrow(/gone/);
  });
});

describe("folders", () => {
  const pdf = (name: string, path = "") => {
    const file = new File([new Uint8Array(4)], name, { type: "application/pdf" });
    Object.defineProperty(file, "webkitRelativePath", { value: path });
    return file;
  };
  function fileEntry(file: File) {
    return { isFile: true, isDirectory: false, name: file.name, file: (done: (f: File) => void) => done(file) };
  }
  function folderEntry(name: string, children: unknown[]) {
    return {
      isFile: false,
      isDirectory: true,
      name,
      createReader() {
        // Entries come a batch at a time, then an empty batch.
        const batches = [children.slice(0, 1), children.slice(1), []];
        return { readEntries: (done: (entries: unknown[]) => void) => done(batches.shift() ?? []) };
      },
    };
  }
  it("keeps the PDFs of a folder chooser and names its folder", () => {
    const list = [
      pdf("a.pdf", "manuals/a.pdf"),
      pdf("notes.txt", "manuals/notes.txt"),
      pdf("B.PDF", "manuals/x/B.PDF"),
      pdf("scan.TIFF", "manuals/x/scan.TIFF"),
      pdf("photo.gif", "manuals/photo.gif"),
    ];
    const picked = filesFromInput(list as unknown as FileList);
    expect(picked.files.map((f) => f.name)).toEqual(["a.pdf", "B.PDF", "scan.TIFF"]);
    expect(picked.folder).toBe("manuals");
    expect(filesFromInput([pdf("a.pdf")] as unknown as FileList).folder).toBe("");
  });
  it("walks a dropped folder to the bottom, PDFs only", async () => {
    const tree = folderEntry("manuals", [
      fileEntry(pdf("one.pdf")),
      fileEntry(pdf("readme.md")),
      folderEntry("nested", [fileEntry(pdf("two.pdf"))]),
    ]);
    const transfer = { items: [{ kind: "file", webkitGetAsEntry: () => tree }], files: [] } as unknown as DataTransfer;
    const picked = await filesFromDrop(transfer);
    expect(picked.files.map((f) => f.name)).toEqual(["one.pdf", "two.pdf"]);
    expect(picked.folder).toBe("manuals");
  });
  it("takes loose files when the browser gives no entries", async () => {
    const transfer = { items: [], files: [pdf("a.pdf"), pdf("b.txt")] } as unknown as DataTransfer;
    expect((await filesFromDrop(transfer)).files.map((f) => f.name)).toEqual(["a.pdf"]);
  });
});
