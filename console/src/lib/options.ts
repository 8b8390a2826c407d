// Processing options (mivaa.jobs.v1.ProcessingOptions) as the upload and reprocess forms hold them:
// checked here with the bounds the extractor checks (processing_options.py), so a mistake is shown
// beside its field before anything is sent; which language codes Tesseract knows is the server's to
// say (it answers PROCESSING_OPTION_INVALID naming the field, shown beside that field too).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ImageExtraction,
  OcrMode,
  ProcessingOptionsSchema,
  TableExtraction,
  type ProcessingOptions,
} from "../gen/mivaa/jobs/v1/processing_options_pb";
import { describeError, errorInfo } from "./errors";

export const MIN_CHUNK_TOKENS = 32;
export const MAX_CHUNK_TOKENS = 256;
export const MAX_OCR_LANGUAGES = 8;
// Tesseract's language data names: three letters, optionally a variant ("chi_sim", "deu_frak").
const LANGUAGE_SHAPE = /^[a-z]{3}(?:_[a-z]{3,4})?$/;

export type OcrChoice = "auto" | "force" | "off";

/** The form's fields, as typed: `chunkTokens` "" is the server's default. */
export interface OptionsForm {
  ocrMode: OcrChoice;
  /** Tesseract codes separated by commas or spaces; "" lets each page's script decide. */
  languages: string;
  images: boolean;
  tables: boolean;
  chunkTokens: string;
}

export type OptionField = keyof OptionsForm;
export type OptionErrors = Partial<Record<OptionField, string>>;

export const DEFAULT_OPTIONS: OptionsForm = { ocrMode: "auto", languages: "", images: true, tables: true, chunkTokens: "" };

const OCR_MODES: Record<OcrChoice, OcrMode> = { auto: OcrMode.AUTO, force: OcrMode.FORCE, off: OcrMode.OFF };

export function splitLanguages(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((code) => code.trim().toLowerCase()).filter(Boolean))];
}

/** The options to send, or what is wrong with each field in words. */
export function checkOptions(
  form: OptionsForm,
): { options: MessageInitShape<typeof ProcessingOptionsSchema> } | { errors: OptionErrors } {
  const errors: OptionErrors = {};
  let chunkTokens = 0;
  if (form.chunkTokens.trim()) {
    const value = Number(form.chunkTokens.trim());
    if (!Number.isInteger(value) || value < MIN_CHUNK_TOKENS || value > MAX_CHUNK_TOKENS) {
      errors.chunkTokens = `Chunk size is a whole number of tokens from ${MIN_CHUNK_TOKENS} to ${MAX_CHUNK_TOKENS} (or empty for the server's default).`;
    } else chunkTokens = value;
  }
  const languages = splitLanguages(form.languages);
  const malformed = languages.filter((code) => !LANGUAGE_SHAPE.test(code));
  if (form.ocrMode === "off" && languages.length) {
    errors.languages = "OCR is off: leave the languages empty.";
  } else if (malformed.length) {
    errors.languages = `Not a Tesseract language code: ${malformed.join(", ")} (write codes such as eng, deu or chi_sim).`;
  } else if (languages.length > MAX_OCR_LANGUAGES) {
    errors.languages = `At most ${MAX_OCR_LANGUAGES} languages.`;
  }
  if (Object.keys(errors).length) return { errors };
  return {
    options: {
      ocrMode: OCR_MODES[form.ocrMode],
      ocrLanguages: languages,
      images: form.images ? ImageExtraction.ON : ImageExtraction.OFF,
      tables: form.tables ? TableExtraction.ON : TableExtraction.OFF,
      chunkTokens,
    },
  };
}

/** The form filled with a document's stored options (a reprocess starts from what it was processed with). */
export function formFromOptions(options: ProcessingOptions | undefined): OptionsForm {
  if (!options) return { ...DEFAULT_OPTIONS };
  const ocrMode = options.ocrMode === OcrMode.FORCE ? "force" : options.ocrMode === OcrMode.OFF ? "off" : "auto";
  return {
    ocrMode,
    languages: options.ocrLanguages.join(", "),
    images: options.images !== ImageExtraction.OFF,
    tables: options.tables !== TableExtraction.OFF,
    chunkTokens: options.chunkTokens ? String(options.chunkTokens) : "",
  };
}

/** What a document was processed with, as the document view lists it (unset fields: the defaults). */
export function describeOptions(options: ProcessingOptions | undefined): { term: string; value: string }[] {
  const o = options ?? create(ProcessingOptionsSchema);
  const ocr =
    o.ocrMode === OcrMode.FORCE
      ? "every page"
      : o.ocrMode === OcrMode.OFF
        ? "off"
        : "pages without a text layer (automatic)";
  return [
    { term: "OCR", value: ocr },
    { term: "OCR languages", value: o.ocrLanguages.length ? o.ocrLanguages.join(", ") : "each page's own script" },
    { term: "Images", value: o.images === ImageExtraction.OFF ? "not extracted" : "extracted" },
    { term: "Tables", value: o.tables === TableExtraction.OFF ? "read as paragraphs" : "kept as tables" },
    { term: "Chunk size", value: o.chunkTokens ? `${o.chunkTokens} tokens` : "the server's default" },
  ];
}

// The server names the field it refuses ("options.chunk_tokens"); the form's field beside which to say so.
const SERVER_FIELDS: Record<string, OptionField> = {
  ocr_mode: "ocrMode",
  ocr_languages: "languages",
  images: "images",
  tables: "tables",
  chunk_tokens: "chunkTokens",
};

export interface OptionRefusal {
  /** The form's field the server named; undefined when it names none the form has. */
  field: OptionField | undefined;
  /** The server's field path ("options.chunk_tokens"), shown with the reason. */
  path: string;
  message: string;
}

/** A PROCESSING_OPTION_INVALID refusal as the field it names and the server's own sentence; undefined
 * for any other error. */
export function refusedOption(error: unknown): OptionRefusal | undefined {
  const info = errorInfo(error);
  if (info?.reason !== "PROCESSING_OPTION_INVALID") return undefined;
  const path = info.metadata.field ?? "";
  return { field: SERVER_FIELDS[path.split(".").pop() ?? ""], path, message: describeError(error) };
}

export function isDefaultForm(form: OptionsForm): boolean {
  const defaults = DEFAULT_OPTIONS;
  return (
    form.ocrMode === defaults.ocrMode &&
    splitLanguages(form.languages).length === 0 &&
    form.images === defaults.images &&
    form.tables === defaults.tables &&
    !form.chunkTokens.trim()
  );
}
