import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ImageExtraction, OcrMode, ProcessingOptionsSchema, TableExtraction } from "../gen/mivaa/jobs/v1/processing_options_pb";
import { describeError } from "./errors";
import {
  checkOptions,
  DEFAULT_OPTIONS,
  describeOptions,
  formFromOptions,
  isDefaultForm,
  refusedOption,
  splitLanguages,
} from "./options";
import { refusal } from "./test-errors";

const form = (change: Partial<typeof DEFAULT_OPTIONS>) => ({ ...DEFAULT_OPTIONS, ...change });

describe("processing options form", () => {
  it("sends what the form says, the defaults as the server's zero values", () => {
    expect(checkOptions(DEFAULT_OPTIONS)).toEqual({
      options: { ocrMode: OcrMode.AUTO, ocrLanguages: [], images: ImageExtraction.ON, tables: TableExtraction.ON, chunkTokens: 0 },
    });
    expect(checkOptions(form({ ocrMode: "force", languages: "eng, DEU deu", images: false, tables: false, chunkTokens: " 64 " }))).toEqual({
      options: { ocrMode: OcrMode.FORCE, ocrLanguages: ["eng", "deu"], images: ImageExtraction.OFF, tables: TableExtraction.OFF, chunkTokens: 64 },
    });
  });

  it("keeps the chunk size within the server's bounds, 32 to 256 whole tokens", () => {
    for (const ok of ["32", "256", "128"]) expect(checkOptions(form({ chunkTokens: ok }))).toHaveProperty("options");
    for (const bad of ["31", "257", "0", "-5", "64.5", "lots"]) {
      expect(checkOptions(form({ chunkTokens: bad }))).toEqual({ errors: { chunkTokens: expect.stringMatching(/from 32 to 256/) } });
    }
  });

  it("checks the languages' shape and count, and none with OCR off", () => {
    expect(checkOptions(form({ languages: "chi_sim deu_frak" }))).toHaveProperty("options");
    expect(checkOptions(form({ languages: "english" }))).toEqual({ errors: { languages: expect.stringMatching(/english/) } });
    expect(checkOptions(form({ languages: "e1g" }))).toEqual({ errors: { languages: expect.stringMatching(/Not a Tesseract/) } });
    const nine = "eng deu fra spa ita por nld swe dan";
    expect(checkOptions(form({ languages: nine }))).toEqual({ errors: { languages: "At most 8 languages." } });
    expect(checkOptions(form({ ocrMode: "off", languages: "eng" }))).toEqual({ errors: { languages: expect.stringMatching(/OCR is off/) } });
    // Tesseract's own list is the server's to check: an unknown code of the right shape goes through.
    expect(checkOptions(form({ languages: "xyz" }))).toHaveProperty("options");
    expect(splitLanguages(" eng,,deu  eng ")).toEqual(["eng", "deu"]);
  });

  it("tells the defaults apart (they are not sent)", () => {
    expect(isDefaultForm(DEFAULT_OPTIONS)).toBe(true);
    expect(isDefaultForm(form({ languages: " , " }))).toBe(true);
    expect(isDefaultForm(form({ chunkTokens: "64" }))).toBe(false);
    expect(isDefaultForm(form({ tables: false }))).toBe(false);
  });

  it("fills the form from stored options and back", () => {
    const stored = create(ProcessingOptionsSchema, { ocrMode: OcrMode.OFF, images: ImageExtraction.OFF, chunkTokens: 96 });
    const filled = formFromOptions(stored);
    expect(filled).toEqual({ ocrMode: "off", languages: "", images: false, tables: true, chunkTokens: "96" });
    expect(checkOptions(filled)).toEqual({
      options: { ocrMode: OcrMode.OFF, ocrLanguages: [], images: ImageExtraction.OFF, tables: TableExtraction.ON, chunkTokens: 96 },
    });
    expect(formFromOptions(undefined)).toEqual(DEFAULT_OPTIONS);
  });
});

describe("processing options in words", () => {
  it("says what a document was processed with, the defaults included", () => {
    const words = Object.fromEntries(describeOptions(undefined).map(({ term, value }) => [term, value]));
    expect(words).toEqual({
      OCR: "pages without a text layer (automatic)",
      "OCR languages": "each page's own script",
      Images: "extracted",
      Tables: "kept as tables",
      "Chunk size": "the server's default",
    });
    const stored = create(ProcessingOptionsSchema, {
      ocrMode: OcrMode.FORCE,
      ocrLanguages: ["eng", "kor"],
      tables: TableExtraction.OFF,
      chunkTokens: 64,
    });
    const told = Object.fromEntries(describeOptions(stored).map(({ term, value }) => [term, value]));
    expect(told).toMatchObject({ OCR: "every page", "OCR languages": "eng, kor", Tables: "read as paragraphs", "Chunk size": "64 tokens" });
  });

  it("puts the server's refusal beside the field it names, with its own sentence", () => {
    const error = refusal("PROCESSING_OPTION_INVALID", "options.ocr_languages xyz is not a language Tesseract reads.", Code.InvalidArgument, {
      field: "options.ocr_languages",
    });
    const refused = refusedOption(error);
    expect(refused).toEqual({
      field: "languages",
      path: "options.ocr_languages",
      message: "The server refused the OCR languages: xyz is not a language Tesseract reads.",
    });
    expect(describeError(error)).toBe(refused!.message);
    expect(refusedOption(refusal("PROCESSING_OPTION_INVALID", "bad", Code.InvalidArgument, { field: "options.chunk_tokens" }))?.field).toBe("chunkTokens");
    expect(refusedOption(refusal("NOT_A_PDF", "no"))).toBeUndefined();
    expect(refusedOption(new Error("x"))).toBeUndefined();
  });
});
