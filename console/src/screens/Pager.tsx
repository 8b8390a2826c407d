/** Previous / next over AIP-158 page tokens: `tokens` holds the token of every page visited; `load` fetches one page. */
export function Pager(props: { tokens: string[]; nextToken: string; setTokens: (tokens: string[]) => void; load: (token: string) => unknown }) {
  const { tokens, nextToken } = props;
  const visit = (visited: string[]) => {
    props.setTokens(visited);
    void props.load(visited[visited.length - 1]);
  };
  return (
    <div className="row pager">
      <button type="button" disabled={tokens.length < 2} onClick={() => visit(tokens.slice(0, -1))}>
        Previous page
      </button>
      <span>Page {tokens.length}</span>
      <button type="button" disabled={!nextToken} onClick={() => visit([...tokens, nextToken])}>
        Next page
      </button>
    </div>
  );
}
