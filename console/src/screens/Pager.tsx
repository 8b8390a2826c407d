import type { Paging } from "../lib/usePages";

/** Previous / next over a list's pages (usePages). */
export function Pager({ paging }: { paging: Paging }) {
  return (
    <div className="row pager">
      <button type="button" disabled={!paging.hasPrevious} onClick={paging.previous}>
        Previous page
      </button>
      <span>Page {paging.page}</span>
      <button type="button" disabled={!paging.hasNext} onClick={paging.next}>
        Next page
      </button>
    </div>
  );
}
