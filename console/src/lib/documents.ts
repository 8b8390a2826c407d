// A document's state, and its place among its versions, in words.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { DocumentState, type Document } from "../gen/mivaa/search/v1/search_service_pb";

export const STATE_NAMES: Record<DocumentState, string> = {
  [DocumentState.UNSPECIFIED]: "unknown",
  [DocumentState.PENDING]: "pending",
  [DocumentState.PROCESSING]: "processing",
  [DocumentState.READY]: "ready",
  [DocumentState.FAILED]: "failed",
};

/** A timestamp in the reader's own time zone and style; "" when unset. */
export function timeWords(time: Pick<Timestamp, "seconds" | "nanos"> | undefined): string {
  if (!time) return "";
  const date = new Date(Number(time.seconds) * 1000 + Math.floor(time.nanos / 1e6));
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** "version 2 of 3"; "only version" for a chain of one. */
export function versionWords(document: Pick<Document, "version" | "versionCount">): string {
  const count = Math.max(document.versionCount, document.version, 1);
  if (count <= 1) return "only version";
  return `version ${document.version || "?"} of ${count}`;
}

export interface VersionRow {
  name: string;
  version: number;
  state: string;
  created: string;
  /** The version open in the view. */
  open: boolean;
  /** The chain's newest READY version: the one searches see. */
  searched: boolean;
}

/** ListDocumentVersions' page (newest first) as rows; which one searches see is known on the first
 * page only (a newer READY version would be on an earlier page). */
export function versionRows(documents: Document[], openName: string, firstPage: boolean): VersionRow[] {
  const searched = firstPage ? documents.find((d) => d.state === DocumentState.READY)?.name : undefined;
  return documents.map((d) => ({
    name: d.name,
    version: d.version,
    state: STATE_NAMES[d.state] ?? "unknown",
    created: timeWords(d.createTime),
    open: d.name === openName,
    searched: d.name === searched,
  }));
}
