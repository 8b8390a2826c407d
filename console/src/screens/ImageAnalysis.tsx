import { Fragment, useEffect, useRef, useState } from "react";
import type { ScreenProps } from "../App";
import { ThumbnailSize } from "../gen/mivaa/extractor/v1/extractor_service_pb";
import { Analysis as Kind, type ImageAnalysis as Analysis } from "../gen/mivaa/images/v1/image_analysis_service_pb";
import { analysisErrorText, percent, propertyRows, similarHref, swatchColor, tagsNote } from "../lib/analysis";
import { useCall } from "../lib/useCall";
import { ErrorAlert } from "./ErrorAlert";
import { Thumbnail } from "./Thumbnail";

// Properties, colours, OCR and tags run in one call; OCR and the image model may take a while.
const ANALYZE_TIMEOUT_MS = 120_000;

/** One stored image analysed (ImageAnalysisService.AnalyzeImage): asked again whenever `image` changes. */
export function ImageAnalysisPanel({
  clients,
  onAuthError,
  image,
  label,
}: Pick<ScreenProps, "clients" | "onAuthError"> & { image: string; label: string }) {
  const [analysis, setAnalysis] = useState<Analysis | null>(null);
  const { busy, error, run } = useCall(onAuthError);
  const section = useRef<HTMLElement>(null);
  useEffect(() => {
    // The panel opens below the gallery, often below the fold: bring it into sight.
    section.current?.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
    setAnalysis(null);
    void run(async (signal) => {
      const response = await clients.images.analyzeImage({ source: { case: "image", value: image } }, { signal, timeoutMs: ANALYZE_TIMEOUT_MS });
      setAnalysis(response.analysis ?? null);
    });
  }, [clients, image, run]);
  return (
    <section ref={section} aria-labelledby="analysis-heading" aria-busy={busy} className="analysis" data-testid="image-analysis">
      <h3 id="analysis-heading">Analysis: {label}</h3>
      {busy && <p role="status">Analysing {label}…</p>}
      <ErrorAlert message={error} />
      {analysis && <AnalysisResult {...{ clients, onAuthError, analysis }} />}
    </section>
  );
}

/** What one analysis found; an analysis that could not run is said in words, the others still shown. */
export function AnalysisResult({
  clients,
  onAuthError,
  analysis,
}: Pick<ScreenProps, "clients" | "onAuthError"> & { analysis: Analysis }) {
  const note = tagsNote(analysis.imageModel, analysis.imageModelSource);
  return (
    <div className="analysis-result">
      {analysis.errors.length > 0 && (
        <ul className="analysis-errors" aria-label="Analyses that could not run">
          {analysis.errors.map((e) => (
            <li key={e.analysis} className="error" data-testid="analysis-error">
              {analysisErrorText(e)} <span className="reason">{e.reason}</span>
            </li>
          ))}
        </ul>
      )}
      {analysis.properties && (
        <>
          <h4>Properties</h4>
          <dl className="facts" data-testid="analysis-properties">
            {propertyRows(analysis.properties).map(([term, value]) => (
              <Fragment key={term}>
                <dt>{term}</dt>
                <dd>{value}</dd>
              </Fragment>
            ))}
          </dl>
        </>
      )}
      {analysis.colors.length > 0 && (
        <>
          <h4>Dominant colours</h4>
          <ul className="swatches" data-testid="swatches">
            {analysis.colors.map((color) => (
              <li key={color.hex} data-testid="swatch">
                <span className="swatch" style={{ background: swatchColor(color.hex) ?? "transparent" }} aria-hidden="true" />
                <code>{color.hex}</code>
                <span className="muted">{percent(color.fraction)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {analysis.text && (
        <>
          <h4>Text (OCR)</h4>
          {analysis.text.text.trim() ? (
            <>
              <p className="ocr-text" data-testid="ocr-text" tabIndex={0}>
                {analysis.text.text}
              </p>
              <p className="muted small">
                {analysis.text.engine}, confidence {percent(analysis.text.confidence)}
              </p>
            </>
          ) : (
            <p data-testid="ocr-text">No text found in the image.</p>
          )}
        </>
      )}
      {analysis.tags.length > 0 && (
        <>
          <h4>Tags</h4>
          {note.text && (
            <p className={note.warn ? "note" : "muted small"} data-testid="tags-note">
              {note.text}
            </p>
          )}
          <table className="tags" data-testid="tags">
            <thead>
              <tr>
                <th scope="col">Tag</th>
                <th scope="col">Score</th>
                <th scope="col">Similarity</th>
              </tr>
            </thead>
            <tbody>
              {analysis.tags.map((tag) => (
                <tr key={tag.label} data-testid="tag">
                  <td>{tag.label}</td>
                  <td>
                    <meter min={0} max={1} value={tag.score} aria-label={`${tag.label} score`} /> {percent(tag.score)}
                  </td>
                  <td>{tag.similarity.toFixed(3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h4>Similar images</h4>
      {analysis.similar.length === 0 ? (
        !analysis.errors.some((e) => e.analysis === Kind.SIMILAR) && (
          <p className="muted" data-testid="no-similar">
            No similar images among your documents.
          </p>
        )
      ) : (
        <ul className="gallery similar" data-testid="similar-images">
          {analysis.similar.map((similar) => {
            const title = similar.documentTitle || similar.document;
            return (
              <li key={similar.image} data-testid="similar-image">
                <a href={similarHref(similar)}>
                  <Thumbnail
                    clients={clients}
                    onAuthError={onAuthError}
                    name={similar.image}
                    label={`Similar image in ${title}`}
                    size={ThumbnailSize.SMALL}
                  />
                  <span>{title}</span>
                </a>
                <span className="muted small">similarity {similar.score.toFixed(3)}</span>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
