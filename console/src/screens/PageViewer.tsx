import { useEffect, useRef, useState } from "react";
import type { ScreenProps } from "../App";
import { BlockType, type Page } from "../gen/mivaa/search/v1/search_service_pb";
import { blocksMatching, boxStyle, type Box } from "../lib/boxes";
import { errorInfo } from "../lib/errors";
import { useCall } from "../lib/useCall";
import { ErrorAlert } from "./ErrorAlert";

// One size for every view, so the server's page cache serves a page seen before (~150 dpi on A4).
const RENDER_WIDTH = 1240;
const RENDER_HEIGHT = 1754;

interface Rendered {
  number: number;
  url: string;
  pageWidth: number;
  pageHeight: number;
}

export const BLOCK_NAMES: Record<BlockType, string> = {
  [BlockType.UNSPECIFIED]: "block",
  [BlockType.HEADING]: "heading",
  [BlockType.PARAGRAPH]: "paragraph",
  [BlockType.LIST_ITEM]: "list item",
  [BlockType.TABLE]: "table",
  [BlockType.FIGURE]: "figure",
  [BlockType.CAPTION]: "caption",
  [BlockType.FOOTNOTE]: "footnote",
  [BlockType.CODE]: "code",
  [BlockType.PAGE_HEADER]: "page header",
  [BlockType.PAGE_FOOTER]: "page footer",
  [BlockType.PAGE_NUMBER]: "page number",
};

/** The rendered page with its extracted blocks outlined, and the box or hit being looked at. */
export function PageViewer({
  clients,
  onAuthError,
  name,
  title,
  number,
  structure,
  box,
  text,
}: ScreenProps & {
  name: string;
  title: string;
  number: number;
  structure: Page | undefined;
  box: Box | null;
  text: string;
}) {
  const [rendered, setRendered] = useState<Rendered | null>(null);
  const [password, setPassword] = useState("");
  const [needsPassword, setNeedsPassword] = useState(false);
  const { busy, error, run } = useCall(onAuthError);
  const passwordRef = useRef("");

  function draw(withPassword: string) {
    void run(async (signal) => {
      try {
        const response = await clients.extractor.renderPage(
          { name, page: number, maxWidth: RENDER_WIDTH, maxHeight: RENDER_HEIGHT, password: withPassword },
          { signal },
        );
        const url = URL.createObjectURL(new Blob([response.png as Uint8Array<ArrayBuffer>], { type: "image/png" }));
        setNeedsPassword(false);
        setRendered({ number, url, pageWidth: response.pageWidth, pageHeight: response.pageHeight });
      } catch (e) {
        if (errorInfo(e)?.reason === "PDF_ENCRYPTED") setNeedsPassword(true);
        throw e;
      }
    });
  }
  useEffect(() => {
    draw(passwordRef.current);
  }, [clients, name, number]);
  useEffect(() => () => void (rendered && URL.revokeObjectURL(rendered.url)), [rendered]);

  // Until the asked page arrives the previous one is not shown: its picture under this page's boxes would mislead.
  const current = rendered?.number === number ? rendered : null;
  const blocks = structure?.blocks ?? [];
  const pageWidth = rendered?.pageWidth || structure?.width || 0;
  const pageHeight = rendered?.pageHeight || structure?.height || 0;
  const matched = new Set(text ? blocksMatching(blocks, text) : []);
  // A citation's box, or each block a hit's text came from (one outline each: their union
  // would take in the empty page between two columns).
  const focus = box ? [box] : [...matched].flatMap((i) => (blocks[i].bbox ? [blocks[i].bbox] : []));
  const focusStyles = focus.flatMap((b) => boxStyle(b, pageWidth, pageHeight) ?? []);

  return (
    <figure className="page-view" aria-busy={busy}>
      <ErrorAlert message={error} />
      {needsPassword && (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            passwordRef.current = password;
            draw(password);
          }}
        >
          <label htmlFor="render-password">Password of this PDF</label>
          <input id="render-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
          <button type="submit">Show the page</button>
        </form>
      )}
      {!current && !error && !needsPassword && <div className="page-placeholder">Drawing page {number}…</div>}
      {current && (
        <div className="page-canvas" data-testid="page-canvas" data-page={current.number}>
          <img src={current.url} alt={`Page ${number} of ${title}`} data-testid="page-image" />
          <div className="page-boxes" aria-hidden="true">
            {blocks.map((block, i) => {
              const style = block.bbox && boxStyle(block.bbox, pageWidth, pageHeight);
              if (!style) return null;
              const kind = BLOCK_NAMES[block.type].replace(" ", "-");
              return (
                <div
                  key={i}
                  className={`block-box block-${kind}`}
                  style={style}
                  title={BLOCK_NAMES[block.type]}
                  data-testid="block-box"
                />
              );
            })}
            {focusStyles.map((style, i) => (
              <div key={`focus-${i}`} className="focus-box" style={style} data-testid="focus-box" />
            ))}
          </div>
        </div>
      )}
      <figcaption className="muted">
        {focusStyles.length
          ? "The passage you opened is outlined in orange; extracted blocks in blue."
          : `${blocks.length} extracted blocks outlined.`}
      </figcaption>
    </figure>
  );
}
