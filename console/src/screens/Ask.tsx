import { useState } from "react";
import type { ScreenProps } from "../App";
import { STREAM_TIMEOUT_MS } from "../lib/api";
import { splitAnswer } from "../lib/citations";
import { useCall } from "../lib/useCall";
import type { Citation, Source } from "../gen/mivaa/answer/v1/answer_service_pb";
import { ErrorAlert } from "./ErrorAlert";
import { documentHref } from "../lib/route";

const SNIPPET_CHARS = 320;

export function Ask({ clients, onAuthError }: ScreenProps) {
  const [question, setQuestion] = useState("");
  const [answer, setAnswer] = useState("");
  const [sources, setSources] = useState<Source[]>([]);
  const [citations, setCitations] = useState<Citation[]>([]);
  const [conversation, setConversation] = useState("");
  const [found, setFound] = useState<boolean | null>(null);
  const { busy, error, run } = useCall(onAuthError);
  const citationHref = (n: number) => {
    const cited = citations.find((c) => c.source === n);
    const source = sources.find((s) => s.number === n);
    if (cited) return documentHref(cited.document, cited.page, { box: cited.bbox, text: cited.quote });
    return source ? documentHref(source.document, source.pageStart, { text: source.text }) : "#/ask";
  };

  function ask(followUp: boolean) {
    void run(async (signal) => {
      setAnswer("");
      setSources([]);
      setCitations([]);
      setFound(null);
      const stream = clients.answer.ask(
        { question, conversation: followUp ? conversation : "" },
        { signal, timeoutMs: STREAM_TIMEOUT_MS },
      );
      for await (const response of stream) {
        const event = response.event;
        if (event.case === "sources") setSources(event.value.sources);
        else if (event.case === "delta") setAnswer((text) => text + event.value.text);
        else if (event.case === "citations") setCitations(event.value.citations);
        else if (event.case === "done") {
          setConversation(event.value.conversation);
          setFound(event.value.found);
        }
      }
    });
  }

  return (
    <div>
      <h2>Ask</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          ask(false);
        }}
      >
        <label htmlFor="question" className="visually-hidden">
          Question
        </label>
        <input id="question" value={question} placeholder="Ask your documents a question" onChange={(e) => setQuestion(e.target.value)} />
        <button type="submit" className="primary">
          Ask
        </button>
        {conversation && (
          <button type="button" onClick={() => ask(true)}>
            Ask as a follow-up
          </button>
        )}
      </form>
      <ErrorAlert message={error} />
      {(answer || busy) && (
        <article className="answer" aria-live="polite" aria-busy={busy} data-testid="answer">
          <p>
            {splitAnswer(answer, citations).map((part, i) =>
              part.sources.length ? (
                <span key={i} className="cited">
                  {part.text}
                  {/* The answer often writes its own [n]; the marker opens the cited page at the cited box either way. */}
                  {part.sources.map((n) => (
                    <a key={n} href={citationHref(n)} className="cite" data-testid="citation" aria-label={`source ${n}`}>
                      {part.text.includes(`[${n}]`) ? "↗" : `[${n}]`}
                    </a>
                  ))}
                </span>
              ) : (
                <span key={i}>{part.text}</span>
              ),
            )}
          </p>
          {found === false && <p className="muted">The documents do not seem to answer this.</p>}
        </article>
      )}
      {sources.length > 0 && (
        <>
          <h3>Sources</h3>
          <ol className="sources">
            {sources.map((source) => (
              <li key={source.number} id={`source-${source.number}`} value={source.number}>
                <a href={documentHref(source.document, source.pageStart, { text: source.text })}>
                  <strong>{source.documentTitle || source.document}</strong>
                </a>{" "}
                <span className="muted">
                  page {source.pageStart}
                  {source.pageEnd !== source.pageStart ? `–${source.pageEnd}` : ""}
                </span>
                <p className="snippet">{source.text.length > SNIPPET_CHARS ? `${source.text.slice(0, SNIPPET_CHARS)}…` : source.text}</p>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
