import { useCallback, useState } from "react";
import type { ScreenProps } from "../App";
import { usePages } from "../lib/usePages";
import type { Document } from "../gen/mivaa/search/v1/search_service_pb";
import { STATE_NAMES } from "../lib/documents";
import { ColumnHeads } from "./Parts";
import { ErrorAlert } from "./ErrorAlert";
import { Pager } from "./Pager";
import { ConfirmDelete } from "./ConfirmDelete";
import { documentHref } from "../lib/route";
import { mediaTypeWord } from "../lib/thumbnails";
import { Thumbnail } from "./Thumbnail";

const PAGE_SIZE = 20;
// ListDocuments' order_by values (AIP-132), as the select names them; a page token belongs to its order.
export const ORDERS: Record<string, string> = {
  "": "newest first",
  create_time: "oldest first",
  "update_time desc": "recently changed",
  title: "title A-Z",
  "title desc": "title Z-A",
  "page_count desc": "most pages",
  page_count: "fewest pages",
};

export function Documents({ clients, onAuthError }: ScreenProps) {
  const [label, setLabel] = useState("");
  const [title, setTitle] = useState("");
  const [state, setState] = useState<string>("");
  const [order, setOrder] = useState("");
  const [confirming, setConfirming] = useState<Document | null>(null);
  const fetchPage = useCallback(
    async (pageToken: string, signal: AbortSignal) => {
      const response = await clients.search.listDocuments(
        { pageSize: PAGE_SIZE, pageToken, labels: label ? [label] : [], orderBy: order },
        { signal },
      );
      return { items: response.documents, nextPageToken: response.nextPageToken };
    },
    [clients, label, order],
  );
  const { items, busy, error, paging, reload, run } = usePages(onAuthError, fetchPage);
  const documents = items ?? [];

  // The API filters by label; title and state narrow the page shown.
  const shown = documents.filter(
    (d) =>
      (!title || (d.title || d.filename).toLowerCase().includes(title.toLowerCase())) &&
      (!state || STATE_NAMES[d.state] === state),
  );

  return (
    <div>
      <h2>Documents</h2>
      <form className="row filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Label <input value={label} onChange={(e) => setLabel(e.target.value)} />
        </label>
        <label>
          Title <input value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <label>
          State
          <select value={state} onChange={(e) => setState(e.target.value)}>
            <option value="">any</option>
            {["pending", "processing", "ready", "failed"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Sort
          <select value={order} onChange={(e) => setOrder(e.target.value)}>
            {Object.entries(ORDERS).map(([value, name]) => (
              <option key={value} value={value}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorAlert message={error} />
      <table className="documents document-list" aria-busy={busy}>
        <ColumnHeads names={["Preview", "Title", "Type", "State", "Versions", "Pages", "Chunks", "Labels"]} />
        <tbody>
          {shown.map((d) => (
            <tr key={d.name} data-testid="document-row">
              <td className="preview">
                <a href={documentHref(d.name)} tabIndex={-1} aria-hidden="true">
                  <Thumbnail clients={clients} onAuthError={onAuthError} name={d.name} label={`Preview of ${d.title || d.filename}`} />
                </a>
                {/* At phone width the type column gives way to this line under the preview. */}
                <span className="type-under-preview">{mediaTypeWord(d.mediaType)}</span>
              </td>
              <td className="title">
                <a href={documentHref(d.name)}>{d.title || d.filename}</a>
                {/* At phone width the versions column gives way to this line under the title. */}
                {d.versionCount > 1 && (
                  <span className="versions-under-title" data-testid="versions-under-title">
                    {d.versionCount} versions
                  </span>
                )}
              </td>
              <td data-testid="media-type">{mediaTypeWord(d.mediaType)}</td>
              <td>{STATE_NAMES[d.state]}</td>
              {/* The list shows each chain's newest version; the document view lists the others. */}
              <td data-testid="version-count">
                {d.versionCount || 1}
              </td>
              <td>{d.pageCount}</td>
              <td>{d.chunkCount}</td>
              <td>{d.labels.join(", ")}</td>
              <td>
                <button type="button" onClick={() => setConfirming(d)} aria-label={`Delete ${d.title || d.filename}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!busy && shown.length === 0 && <p>No documents.</p>}
      <Pager paging={paging} />
      {confirming && (
        <ConfirmDelete
          document={confirming}
          onKeep={() => setConfirming(null)}
          onDelete={(doomed) => {
            setConfirming(null);
            void run(async (signal) => {
              await clients.search.deleteDocument({ name: doomed.name }, { signal });
              reload(); // the page as it is now: the next document moves up into it
            });
          }}
        />
      )}
    </div>
  );
}
