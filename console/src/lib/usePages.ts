// One paginated list (AIP-158 page tokens) for a screen: the page shown, the tokens of the pages
// visited (so "Previous page" needs no token of its own), and a reload of the page shown. A new
// `fetchPage` (the screen's filters or order changed) or `restart` value starts over from the first page.
import { useCallback, useEffect, useState } from "react";
import { useCall } from "./useCall";

export type Page<T> = { items: T[]; nextPageToken: string };

/** What the Pager shows and does. */
export type Paging = { page: number; hasPrevious: boolean; hasNext: boolean; previous: () => void; next: () => void };

export function usePages<T>(
  onAuthError: () => void,
  fetchPage: (pageToken: string, signal: AbortSignal) => Promise<Page<T>>,
  restart: unknown = 0,
) {
  const [items, setItems] = useState<T[] | null>(null);
  const [tokens, setTokens] = useState<string[]>([""]);
  const [nextToken, setNextToken] = useState("");
  const { busy, error, run } = useCall(onAuthError);

  const load = useCallback(
    (pageToken: string) =>
      run(async (signal) => {
        const page = await fetchPage(pageToken, signal);
        setItems(page.items);
        setNextToken(page.nextPageToken);
      }),
    [fetchPage, run],
  );
  useEffect(() => {
    setTokens([""]);
    void load("");
  }, [load, restart]);

  const visit = (visited: string[]) => {
    setTokens(visited);
    void load(visited[visited.length - 1]);
  };
  const paging: Paging = {
    page: tokens.length,
    hasPrevious: tokens.length > 1,
    hasNext: nextToken !== "",
    previous: () => visit(tokens.slice(0, -1)),
    next: () => visit([...tokens, nextToken]),
  };
  const reload = () => void load(tokens[tokens.length - 1]);
  // `run` is the list's own useCall: another call of the screen's (a delete) shows in its busy and error.
  return { items, busy, error, paging, reload, run };
}
