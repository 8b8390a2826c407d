// Plain-words messages for the mesh's errors: the google.rpc.ErrorInfo reason (README's
// error table) decides the sentence; the gateway's own refusals (401, 429) are recognised too.
import { Code, ConnectError } from "@connectrpc/connect";
import { BinaryReader } from "@bufbuild/protobuf/wire";

const ERROR_INFO_TYPE = "google.rpc.ErrorInfo";

export interface ErrorInfo {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

// google.rpc.ErrorInfo is not part of protos/ (it comes with googleapis); its three fields
// are read from the wire here rather than pulling the whole googleapis tree into the bundle.
export function decodeErrorInfo(bytes: Uint8Array): ErrorInfo {
  const info: ErrorInfo = { reason: "", domain: "", metadata: {} };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) info.reason = reader.string();
    else if (field === 2) info.domain = reader.string();
    else if (field === 3) {
      const entry = new BinaryReader(reader.bytes());
      let key = "";
      let value = "";
      while (entry.pos < entry.len) {
        const [entryField, entryWire] = entry.tag();
        if (entryField === 1) key = entry.string();
        else if (entryField === 2) value = entry.string();
        else entry.skip(entryWire);
      }
      info.metadata[key] = value;
    } else reader.skip(wireType);
  }
  return info;
}

export function errorInfo(error: unknown): ErrorInfo | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  for (const detail of error.details) {
    if ("type" in detail && detail.type === ERROR_INFO_TYPE && "value" in detail) {
      return decodeErrorInfo(detail.value);
    }
  }
  return undefined;
}

const REASONS: Record<string, string> = {
  EMPTY_FILE: "The file is empty.",
  NOT_A_PDF: "This is not a PDF file.",
  PDF_UNREADABLE: "The PDF is damaged and cannot be read.",
  FILE_TOO_LARGE: "The file is larger than the mesh accepts.",
  TOO_MANY_PAGES: "The PDF has more pages than the mesh accepts.",
  FILENAME_TOO_LONG: "The file name is too long.",
  FILENAME_INVALID: "The file name contains characters that are not allowed.",
  FILENAME_MISSING: "The file has no name.",
  TITLE_TOO_LONG: "The title is too long.",
  TOO_MANY_LABELS: "Too many labels.",
  LABEL_TOO_LONG: "A label is too long.",
  LABEL_INVALID: "A label contains characters that are not allowed.",
  CONTROL_CHARACTERS: "The text contains control characters.",
  PASSWORD_TOO_LONG: "The password is too long.",
  PDF_ENCRYPTED: "The PDF is encrypted: enter its password.",
  JOB_NOT_FOUND: "That job no longer exists.",
  DOCUMENT_NOT_FOUND: "That document no longer exists.",
  QUERY_EMPTY: "Type something to search for.",
  QUERY_TOO_LONG: "The query is too long (at most 4096 characters).",
  INVALID_PAGE_TOKEN: "The list changed; start again from the first page.",
  MODEL_LOADING: "The search model is still loading; try again in a moment.",
  EMBEDDER_UNAVAILABLE: "The embedding service is unavailable; try again in a moment.",
  SEARCH_UNAVAILABLE: "The search service is unavailable; try again in a moment.",
  NATS_UNAVAILABLE: "The job queue is unavailable; try again in a moment.",
  DATABASE_UNAVAILABLE: "The database is unavailable; try again in a moment.",
  VALUE_NOT_STORABLE: "The text contains something that cannot be stored.",
  PAGE_OUT_OF_RANGE: "That page is not in the document.",
  RENDER_SIZE_INVALID: "That picture size cannot be drawn.",
  PAGE_RENDER_TIMEOUT: "The page took too long to draw; try again.",
  PAGE_RENDER_FAILED: "The page could not be drawn.",
  ORIGINAL_NOT_FOUND: "The stored file of this document is missing.",
  FIELD_NOT_UPDATABLE: "Only the title and the labels can be changed.",
  IMAGE_MODEL_UNAVAILABLE: "No image model is served, so image search is off (README: Image search).",
  IMAGE_UNREADABLE: "The picture cannot be read: use PNG, JPEG, WebP, GIF, BMP or TIFF.",
  IMAGE_TOO_LARGE: "The picture has too many pixels: scale it down first.",
  IMAGE_INVALID: "The picture is damaged: its data does not match its header.",
  IMAGE_FORMAT_UNSUPPORTED: "That picture format cannot be read here (use PNG, JPEG or TIFF).",
  IMAGE_TOO_MANY_PAGES: "The picture has more frames than the mesh accepts.",
  IMAGE_NOT_FOUND: "That image no longer exists.",
  IMAGE_NAME_INVALID: "That is not the name of a stored image.",
  OCR_UNAVAILABLE: "No OCR service is configured, so the image's text cannot be read.",
  LABELS_INVALID: "The tag labels are not valid (at most 64 labels of at most 64 characters).",
  OPTIONS_INVALID: "The analysis options are out of range.",
  THUMBNAIL_NAME_INVALID: "That is not a document or an image to draw a thumbnail of.",
  THUMBNAIL_SIZE_INVALID: "That thumbnail size cannot be drawn.",
  BATCH_NOT_FOUND: "That batch no longer exists.",
  BATCH_FULL: "The batch is full: upload the rest in another batch.",
  TOO_MANY_METADATA_KEYS: "A document holds at most 32 metadata keys.",
  INVALID_METADATA_KEY: "Metadata keys start with a lower-case letter and hold only a-z, 0-9, _ . and - (at most 63).",
  INVALID_METADATA_VALUE: "Metadata values are at most 256 characters, on one line.",
  DOCUMENT_PROCESSING: "The document is still being processed: try again when its job has finished.",
  ORIGINAL_MISSING: "The uploaded file of this document is no longer stored: upload it again.",
  REPROCESS_FAILED: "The reprocess could not be queued; try again.",
  INVALID_MODEL: "Choose a model.",
  MODEL_ALREADY_ACTIVE: "Searches use this model already: choose another one.",
  REEMBEDDING_RUNNING: "A re-embedding of this tenant is already running: wait for it to end or cancel it first.",
  REEMBEDDING_NOT_RUNNING: "That re-embedding has already ended.",
  REEMBEDDING_NOT_FOUND: "No re-embedding has run for this tenant yet.",
};

// ProcessingOptions' fields as people call them (PROCESSING_OPTION_INVALID names one).
const OPTION_WORDS: Record<string, string> = {
  ocr_mode: "the OCR mode",
  ocr_languages: "the OCR languages",
  images: "the image setting",
  tables: "the table setting",
  chunk_tokens: "the chunk size",
};

// Reasons whose ErrorInfo metadata says more than a fixed sentence could.
const DETAILED: Record<string, (metadata: Record<string, string>, message: string) => string> = {
  // The server's sentence starts with the field's path ("options.ocr_languages xyz is not ..."): said in words instead.
  PROCESSING_OPTION_INVALID: (m, message) => {
    const field = m.field ?? "";
    const said = field && message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
    return `The server refused ${OPTION_WORDS[field.split(".").pop() ?? ""] ?? "a processing option"}: ${said || "it is not valid."}`;
  },
  MODEL_NOT_SERVED: (m) =>
    `The embedder serves no text model named ${m.model || "so"}${m.available ? ` (it serves ${m.available.split(",").join(", ")})` : ""}.`,
  MODEL_DIMENSION_MISMATCH: (m) =>
    `${m.model || "That model"} makes vectors of ${m.model_dimension || "another"} dimensions, but this tenant's are stored with ${m.stored_dimension || "a different number"}: re-embedding needs a model of the same dimension.`,
};

/** A failure recorded with a reason and the server's message (a batch's failed file) in plain words. */
export function describeReason(reason: string, message: string): string {
  return REASONS[reason] ?? (message || reason || "It could not be processed.");
}

export const RATE_LIMITED_MESSAGE = "Too many requests: the gateway's rate limit was reached. Wait a few seconds and try again.";
export const SIGNED_OUT_MESSAGE = "Your sign-in is no longer valid (expired or refused). Sign in again.";

export function isUnauthenticated(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.Unauthenticated;
}

/** One sentence a person can act on, for any error a call can end with. */
export function describeError(error: unknown): string {
  if (!(error instanceof ConnectError)) {
    return error instanceof Error ? `Something went wrong: ${error.message}` : "Something went wrong.";
  }
  const info = errorInfo(error);
  if (info && info.reason === "PDF_ENCRYPTED" && info.metadata.password_supplied === "true") {
    return "The password is wrong: try another.";
  }
  if (info && DETAILED[info.reason]) return DETAILED[info.reason](info.metadata, error.rawMessage);
  if (info && REASONS[info.reason]) return REASONS[info.reason];
  switch (error.code) {
    case Code.Unauthenticated:
      return SIGNED_OUT_MESSAGE;
    case Code.PermissionDenied:
      return "Your token does not allow this (missing scope).";
    case Code.ResourceExhausted:
    case Code.Unavailable:
      if (/rate|429|too many/i.test(error.rawMessage) || error.code === Code.ResourceExhausted) {
        return RATE_LIMITED_MESSAGE;
      }
      return "The mesh is unavailable; try again in a moment.";
    case Code.DeadlineExceeded:
      return "The request took too long; try again.";
    case Code.Canceled:
      return "Cancelled.";
    default:
      return info?.reason ? `${error.rawMessage} (${info.reason})` : error.rawMessage || "Something went wrong.";
  }
}
