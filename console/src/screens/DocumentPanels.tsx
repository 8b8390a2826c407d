import { useEffect, useState } from "react";
import type { ScreenProps } from "../App";
import { EntityType, ExportFormat, type DocumentEntity, type Image } from "../gen/mivaa/search/v1/search_service_pb";
import { STREAM_TIMEOUT_MS } from "../lib/api";
import { collect, loadImageUrls } from "../lib/images";
import { documentHref } from "../lib/route";
import { useCall } from "../lib/useCall";
import { ErrorAlert } from "./ErrorAlert";
import { ImageAnalysisPanel } from "./ImageAnalysis";
import { Markdown } from "./Markdown";

type PanelProps = ScreenProps & { name: string };

/** The whole document as Markdown (ExportDocument), tables as tables. */
export function DocumentText({ clients, onAuthError, name }: PanelProps) {
  const [text, setText] = useState<string | null>(null);
  const { busy, error, run } = useCall(onAuthError);
  useEffect(() => {
    void run(async (signal) => {
      const stream = clients.search.exportDocument({ name, format: ExportFormat.MARKDOWN }, { signal, timeoutMs: STREAM_TIMEOUT_MS });
      setText(new TextDecoder().decode(await collect(stream)));
    });
  }, [clients, name, run]);
  return (
    <section aria-labelledby="text-heading" aria-busy={busy}>
      <h3 id="text-heading">Text</h3>
      <ErrorAlert message={error} />
      {text !== null && (text.trim() ? <Markdown text={text} /> : <p>No text was extracted.</p>)}
    </section>
  );
}

interface Shown {
  image: Image;
  url: string;
}

/** The document's images (ListImages, bytes by GetImageContent); each opens its page at its box,
 * and "Analyze" shows its analysis (ImageAnalysisService) below the gallery. A link naming one
 * image (`image`: its sha256, as a similar image's link does) opens that one's analysis (GetImage). */
export function ImageGallery({ clients, onAuthError, name, image: linked }: PanelProps & { image?: string }) {
  const [shown, setShown] = useState<Shown[] | null>(null);
  const [analyzing, setAnalyzing] = useState<{ image: string; label: string } | null>(null);
  const { busy, error, run } = useCall(onAuthError);
  const lookup = useCall(onAuthError);
  useEffect(() => {
    if (!linked) return;
    void lookup.run(async (signal) => {
      const { image } = await clients.search.getImage({ name: `${name}/images/${linked}` }, { signal });
      if (!image) return;
      const place = image.placements[0];
      setAnalyzing({ image: image.name, label: image.caption || `Image${place ? ` on page ${place.page}` : ""}` });
    });
  }, [clients, name, linked, lookup.run]);
  useEffect(() => {
    const urls: string[] = [];
    void run(async (signal) => {
      const { images } = await clients.search.listImages({ parent: name, pageSize: 24 }, { signal });
      const loaded = await loadImageUrls(clients, images, signal, urls);
      setShown(images.map((image, i) => ({ image, url: loaded[i] })));
    });
    return () => urls.forEach((url) => URL.revokeObjectURL(url));
  }, [clients, name, run]);
  return (
    <>
      <section aria-labelledby="images-heading" aria-busy={busy}>
        <h3 id="images-heading">Images</h3>
        <ErrorAlert message={error} />
        <ErrorAlert message={lookup.error} />
        {shown?.length === 0 && <p>No images.</p>}
        <ul className="gallery">
          {shown?.map(({ image, url }, i) => {
            const place = image.placements[0];
            const label = image.caption || `Image ${i + 1}${place ? ` on page ${place.page}` : ""}`;
            const current = analyzing?.image === image.name;
            return (
              <li key={image.name} data-testid="gallery-image" className={current ? "analyzed" : undefined}>
                <a href={place ? documentHref(name, place.page, { box: place.bbox }) : undefined}>
                  <img src={url} alt={label} width={image.width} height={image.height} />
                </a>
                <span>{label}</span>
                <button
                  type="button"
                  className="small-button"
                  aria-pressed={current}
                  aria-label={`Analyze ${label}`}
                  onClick={() => setAnalyzing({ image: image.name, label })}
                >
                  Analyze
                </button>
              </li>
            );
          })}
        </ul>
      </section>
      {analyzing && <ImageAnalysisPanel clients={clients} onAuthError={onAuthError} image={analyzing.image} label={analyzing.label} />}
    </>
  );
}

const ENTITY_NAMES: Record<EntityType, string> = {
  [EntityType.UNSPECIFIED]: "Other",
  [EntityType.PERSON]: "People",
  [EntityType.ORGANIZATION]: "Organizations",
  [EntityType.PLACE]: "Places",
  [EntityType.DATE]: "Dates",
  [EntityType.AMOUNT]: "Amounts",
};

/** A summary (AnswerService) and the named entities (SearchService), each with its pages. */
export function Intelligence({ clients, onAuthError, name }: PanelProps) {
  const [summary, setSummary] = useState<{ text: string; pages: number[] } | null>(null);
  const [entities, setEntities] = useState<DocumentEntity[] | null>(null);
  const summaryCall = useCall(onAuthError);
  const entityCall = useCall(onAuthError);
  useEffect(() => {
    void summaryCall.run(async (signal) => {
      const response = await clients.answer.summarizeDocument({ name }, { signal, timeoutMs: 120_000 });
      setSummary({ text: response.summary, pages: response.pages });
    });
    void entityCall.run(async (signal) => {
      const response = await clients.search.listDocumentEntities({ parent: name, pageSize: 40 }, { signal });
      setEntities(response.entities);
    });
  }, [clients, name, summaryCall.run, entityCall.run]);
  const groups = new Map<EntityType, DocumentEntity[]>();
  for (const entity of entities ?? []) groups.set(entity.type, [...(groups.get(entity.type) ?? []), entity]);
  return (
    <>
      <section aria-labelledby="summary-heading" aria-busy={summaryCall.busy}>
        <h3 id="summary-heading">Summary</h3>
        <ErrorAlert message={summaryCall.error} />
        {summary && <p data-testid="summary">{summary.text || "No summary."}</p>}
        {summary && summary.pages.length > 0 && <PageLinks name={name} pages={summary.pages} label="From pages" />}
      </section>
      <section aria-labelledby="entities-heading" aria-busy={entityCall.busy}>
        <h3 id="entities-heading">Entities</h3>
        <ErrorAlert message={entityCall.error} />
        {entities?.length === 0 && <p>No named entities found (English documents only).</p>}
        <dl className="entities" data-testid="entities">
          {[...groups].map(([type, list]) => (
            <div key={type}>
              <dt>{ENTITY_NAMES[type]}</dt>
              <dd>
                <ul>
                  {list.map((entity) => (
                    <li key={entity.normalizedText}>
                      {entity.text} <span className="muted">×{entity.mentionCount}</span>{" "}
                      <PageLinks name={name} pages={entity.pages.slice(0, 5)} label={`${entity.text}: pages`} />
                    </li>
                  ))}
                </ul>
              </dd>
            </div>
          ))}
        </dl>
      </section>
    </>
  );
}

function PageLinks({ name, pages, label }: { name: string; pages: number[]; label: string }) {
  return (
    <span className="page-links">
      <span className="visually-hidden">{label}</span>
      {pages.map((page) => (
        <a key={page} href={documentHref(name, page)}>
          p.{page}
        </a>
      ))}
    </span>
  );
}
