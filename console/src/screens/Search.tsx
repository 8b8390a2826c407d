import { useState } from "react";
import type { ScreenProps } from "../App";
import { splitHighlights } from "../lib/citations";
import { useCall } from "../lib/useCall";
import { SearchMode, type SearchHit } from "../gen/mivaa/search/v1/search_service_pb";
import { ErrorAlert } from "./ErrorAlert";
import { documentHref } from "../lib/route";

export function Search({ clients, onAuthError }: ScreenProps) {
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<SearchMode>(SearchMode.HYBRID);
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const { busy, error, run } = useCall(onAuthError);

  return (
    <div>
      <h2>Search</h2>
      <form
        className="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async (signal) => {
            const response = await clients.search.searchChunks({ query, topK: 10, mode }, { signal });
            setHits(response.hits);
          });
        }}
      >
        <label htmlFor="search-query" className="visually-hidden">
          Search query
        </label>
        <input id="search-query" type="search" value={query} placeholder="What are you looking for?" onChange={(e) => setQuery(e.target.value)} />
        <label htmlFor="search-mode" className="visually-hidden">
          Ranking
        </label>
        <select id="search-mode" value={mode} onChange={(e) => setMode(Number(e.target.value) as SearchMode)}>
          <option value={SearchMode.HYBRID}>Hybrid</option>
          <option value={SearchMode.KEYWORD}>Keyword</option>
          <option value={SearchMode.VECTOR}>Meaning</option>
        </select>
        <button type="submit" className="primary" disabled={busy}>
          Search
        </button>
      </form>
      <ErrorAlert message={error} />
      {hits && hits.length === 0 && <p>No hits.</p>}
      <ol className="hits" aria-label="Search results">
        {hits?.map((hit) => (
          <li key={`${hit.document}#${hit.chunkIndex}`} className="hit" data-testid="hit">
            <div className="hit-head">
              <a href={documentHref(hit.document, hit.pageStart, { text: hit.text })} data-testid="hit-link">
                <strong>{hit.documentTitle || hit.document}</strong>
              </a>
              <span>
                {hit.pageStart === hit.pageEnd ? `page ${hit.pageStart}` : `pages ${hit.pageStart}–${hit.pageEnd}`}
              </span>
            </div>
            {hit.sectionPath.length > 0 && <div className="section-path">{hit.sectionPath.join(" › ")}</div>}
            <p className="snippet">
              {splitHighlights(hit.text, hit.highlights).map((part, i) =>
                part.mark ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>,
              )}
            </p>
          </li>
        ))}
      </ol>
    </div>
  );
}
