import { useCallback, useEffect, useState } from "react";
import type { ScreenProps } from "../App";
import { DocumentView as View, type Document, type Page } from "../gen/mivaa/search/v1/search_service_pb";
import type { Box } from "../lib/boxes";
import { formatMetadata, parseMetadata } from "../lib/metadata";
import { documentHref, screenHref } from "../lib/route";
import { useCall } from "../lib/useCall";
import { ConfirmDelete } from "./ConfirmDelete";
import { DocumentText, ImageGallery, Intelligence } from "./DocumentPanels";
import { DocumentAbout } from "./DocumentAbout";
import { ErrorAlert } from "./ErrorAlert";
import { NewVersion } from "./NewVersion";
import { PageViewer } from "./PageViewer";
import { Reprocess } from "./Reprocess";
import { Versions } from "./Versions";

const PAGES_PER_CALL = 20;

/** A document's structured pages (ListPages), fetched in order as far as the page looked at; read
 * again from the start when `generation` changes (a reprocess replaced them). */
function usePages(clients: ScreenProps["clients"], name: string, upTo: number, onAuthError: () => void, generation: number) {
  const [pages, setPages] = useState<{ loaded: Map<number, Page>; next: string | null }>({ loaded: new Map(), next: "" });
  const { error, run } = useCall(onAuthError);
  useEffect(() => setPages({ loaded: new Map(), next: "" }), [name, generation]);
  useEffect(() => {
    if (pages.loaded.has(upTo) || pages.next === null) return;
    const token = pages.next;
    void run(async (signal) => {
      const response = await clients.search.listPages({ parent: name, pageSize: PAGES_PER_CALL, pageToken: token }, { signal });
      setPages((old) => {
        const loaded = new Map(old.loaded);
        for (const page of response.pages) loaded.set(page.number, page);
        return { loaded, next: response.nextPageToken || null };
      });
    });
  }, [clients, name, upTo, pages, run]);
  return { page: pages.loaded.get(upTo), error };
}

export function DocumentView(
  props: ScreenProps & { name: string; page: number; box: Box | null; text: string; image: string; canWrite: boolean },
) {
  const { clients, onAuthError, name, page, box, text, canWrite } = props;
  const [document, setDocument] = useState<Document | null>(null);
  const [title, setTitle] = useState("");
  const [labels, setLabels] = useState("");
  const [metadata, setMetadata] = useState("");
  const [saved, setSaved] = useState("");
  const [confirming, setConfirming] = useState(false);
  const { error, run } = useCall(onAuthError);
  const edit = useCall(onAuthError);
  // Bumped when a reprocess ends (the text, pages and facts are read again) or a version is added.
  const [generation, setGeneration] = useState(0);
  const [versionsSeen, setVersionsSeen] = useState(0);
  const structure = usePages(clients, name, page, onAuthError, generation);

  const show = useCallback((d: Document) => {
    setDocument(d);
    setTitle(d.title);
    setLabels(d.labels.join(", "));
    setMetadata(formatMetadata(d.customMetadata));
  }, []);
  useEffect(() => {
    void run(async (signal) => show((await clients.search.getDocument({ name, view: View.BASIC }, { signal })).document!));
  }, [clients, name, run, show, generation]);

  const pageCount = document?.pageCount ?? 0;
  const shownTitle = document ? document.title || document.filename : name;
  const go = (n: number) => (window.location.hash = documentHref(name, n));

  return (
    <article className="document-view" aria-labelledby="document-heading">
      <p>
        <a href={screenHref("Documents")}>← All documents</a>
      </p>
      <h2 id="document-heading">{shownTitle}</h2>
      <ErrorAlert message={error} />
      {document && (
        <div className="document-layout">
          <div className="document-main" key={generation}>
            <nav className="row pager" aria-label="Pages">
              <button type="button" disabled={page <= 1} onClick={() => go(page - 1)}>
                Previous page
              </button>
              <form
                className="inline"
                onSubmit={(e) => {
                  e.preventDefault();
                  const wanted = Number(new FormData(e.currentTarget).get("page"));
                  if (wanted >= 1 && wanted <= pageCount) go(wanted);
                }}
              >
                <label htmlFor="page-number">Page</label>
                <input id="page-number" name="page" type="number" min={1} max={pageCount} defaultValue={page} key={page} />
                <span>of {pageCount}</span>
              </form>
              <button type="button" disabled={page >= pageCount} onClick={() => go(page + 1)}>
                Next page
              </button>
            </nav>
            <ErrorAlert message={structure.error} />
            <PageViewer {...props} title={shownTitle} number={page} structure={structure.page} box={box} text={text} />
            <DocumentText {...props} />
          </div>
          <div className="document-side">
            <DocumentAbout clients={clients} onAuthError={onAuthError} document={document} title={shownTitle} />
            <Versions clients={clients} onAuthError={onAuthError} name={name} refresh={versionsSeen} />
            {canWrite && (
              <section aria-labelledby="edit-heading">
                <h3 id="edit-heading">Edit</h3>
                <form
                  className="stack"
                  onSubmit={(e) => {
                    e.preventDefault();
                    setSaved("");
                    void edit.run(async (signal) => {
                      const wanted = labels.split(",").map((l) => l.trim()).filter(Boolean);
                      const parsed = parseMetadata(metadata);
                      if ("error" in parsed) throw new Error(parsed.error);
                      const response = await clients.search.updateDocument(
                        {
                          document: { name, title: title.trim(), labels: wanted, customMetadata: parsed.pairs },
                          updateMask: { paths: ["title", "labels", "custom_metadata"] },
                        },
                        { signal },
                      );
                      show(response.document!);
                      setSaved("Saved.");
                    });
                  }}
                >
                  <label htmlFor="edit-title">Title</label>
                  <input id="edit-title" value={title} onChange={(e) => setTitle(e.target.value)} />
                  <label htmlFor="edit-labels">Labels (comma-separated)</label>
                  <input id="edit-labels" value={labels} onChange={(e) => setLabels(e.target.value)} />
                  <label htmlFor="edit-metadata">Metadata (key=value, one per line)</label>
                  <textarea id="edit-metadata" rows={3} value={metadata} onChange={(e) => setMetadata(e.target.value)} />
                  <div className="row">
                    <button type="submit" className="primary" disabled={edit.busy}>
                      Save
                    </button>
                    <button type="button" className="danger" onClick={() => setConfirming(true)}>
                      Delete document
                    </button>
                  </div>
                  <ErrorAlert message={edit.error} />
                  <p role="status">{saved}</p>
                </form>
              </section>
            )}
            {canWrite && (
              <>
                <Reprocess clients={clients} onAuthError={onAuthError} document={document} onDone={() => setGeneration((g) => g + 1)} />
                <NewVersion
                  clients={clients}
                  onAuthError={onAuthError}
                  document={document}
                  onAdded={() => {
                    setVersionsSeen((n) => n + 1);
                    setGeneration((g) => g + 1);
                  }}
                />
              </>
            )}
            {document.outline.length > 0 && (
              <section aria-labelledby="outline-heading">
                <h3 id="outline-heading">Outline</h3>
                <ul className="outline" data-testid="outline">
                  {document.outline.map((entry, i) => (
                    <li key={i} style={{ paddingLeft: `${(entry.level - 1) * 0.8}rem` }}>
                      {entry.page > 0 ? <a href={documentHref(name, entry.page)}>{entry.title}</a> : entry.title}
                    </li>
                  ))}
                </ul>
              </section>
            )}
            <Intelligence {...props} />
            <ImageGallery {...props} />
          </div>
        </div>
      )}
      {confirming && document && (
        <ConfirmDelete
          document={document}
          onKeep={() => setConfirming(false)}
          onDelete={(doomed) => {
            setConfirming(false);
            void edit.run(async (signal) => {
              await clients.search.deleteDocument({ name: doomed.name }, { signal });
              window.location.hash = screenHref("Documents");
            });
          }}
        />
      )}
    </article>
  );
}
