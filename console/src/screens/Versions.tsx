// The versions of the open document's chain (ListDocumentVersions, newest first, paginated): number,
// state and creation time of each, which one searches see, and a link to open any of them.
import { useCallback } from "react";
import type { ScreenProps } from "../App";
import { versionRows } from "../lib/documents";
import { documentHref } from "../lib/route";
import { usePages } from "../lib/usePages";
import { ErrorAlert } from "./ErrorAlert";
import { Pager } from "./Pager";

const PAGE_SIZE = 10;

/** `refresh` changes when a version was added, so the list is read again from its first page. */
export function Versions({ clients, onAuthError, name, refresh }: ScreenProps & { name: string; refresh: number }) {
  const fetchPage = useCallback(
    async (pageToken: string, signal: AbortSignal) => {
      const response = await clients.search.listDocumentVersions({ parent: name, pageSize: PAGE_SIZE, pageToken }, { signal });
      return { items: response.documents, nextPageToken: response.nextPageToken };
    },
    [clients, name],
  );
  const { items: documents, busy, error, paging } = usePages(onAuthError, fetchPage, refresh);

  const rows = versionRows(documents ?? [], name, paging.page === 1);
  return (
    <section aria-labelledby="versions-heading" data-testid="versions">
      <h3 id="versions-heading">Versions</h3>
      <ErrorAlert message={error} />
      <ol className="versions" aria-busy={busy}>
        {rows.map((row) => (
          <li key={row.name} data-testid="version-row" data-version={row.version} data-open={row.open}>
            <span className="version-number">v{row.version}</span>
            <span className={`version-state state-${row.state}`}>{row.state}</span>
            <span className="version-time">{row.created}</span>
            <span className="version-tags">
              {row.searched && <span className="tag">searched</span>}
              {row.open ? (
                <span className="tag open" aria-current="page">
                  viewing
                </span>
              ) : (
                <a href={documentHref(row.name)} aria-label={`Open version ${row.version}`}>
                  Open
                </a>
              )}
            </span>
          </li>
        ))}
      </ol>
      {documents?.length === 0 && <p>No versions.</p>}
      {(paging.hasPrevious || paging.hasNext) && <Pager paging={paging} />}
    </section>
  );
}
