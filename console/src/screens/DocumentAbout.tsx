// The document view's "About" panel: its thumbnail and facts (file, type, state, version, counts,
// labels, metadata) and the processing options it was processed with (GetDocument returns them).
import { Fragment } from "react";
import type { ScreenProps } from "../App";
import { ThumbnailSize } from "../gen/mivaa/extractor/v1/extractor_service_pb";
import type { Document } from "../gen/mivaa/search/v1/search_service_pb";
import { STATE_NAMES, versionWords } from "../lib/documents";
import { formatMetadata } from "../lib/metadata";
import { describeOptions } from "../lib/options";
import { isPicture, mediaTypeWord } from "../lib/thumbnails";
import { Thumbnail } from "./Thumbnail";

export function DocumentAbout({
  clients,
  onAuthError,
  document,
  title: shownTitle,
}: ScreenProps & { document: Document; title: string }) {
  return (
    <section aria-labelledby="about-heading">
      <h3 id="about-heading">About</h3>
      <div className="about-thumb">
        <Thumbnail
          clients={clients}
          onAuthError={onAuthError}
          name={document.name}
          size={ThumbnailSize.MEDIUM}
          label={isPicture(document.mediaType) ? `The picture ${shownTitle}` : `First page of ${shownTitle}`}
        />
      </div>
      <dl className="facts" data-testid="metadata">
        <dt>Version</dt>
        <dd data-testid="version">{versionWords(document)}</dd>
        <dt>File</dt>
        <dd>{document.filename}</dd>
        <dt>Type</dt>
        <dd data-testid="media-type">
          {mediaTypeWord(document.mediaType)}
          {isPicture(document.mediaType) ? " picture" : ""}
        </dd>
        <dt>State</dt>
        <dd data-testid="document-state">{STATE_NAMES[document.state]}</dd>
        <dt>Pages</dt>
        <dd>{document.pageCount}</dd>
        <dt>Chunks</dt>
        <dd data-testid="chunk-count">{document.chunkCount}</dd>
        <dt>Size</dt>
        <dd>{(Number(document.sizeBytes) / 1024).toFixed(0)} KiB</dd>
        {document.metadata?.authors.length ? (
          <>
            <dt>Authors</dt>
            <dd>{document.metadata.authors.join(", ")}</dd>
          </>
        ) : null}
        {document.metadata?.language && (
          <>
            <dt>Language</dt>
            <dd>{document.metadata.language}</dd>
          </>
        )}
        {document.metadata?.producer && (
          <>
            <dt>Producer</dt>
            <dd>{document.metadata.producer}</dd>
          </>
        )}
        <dt>Labels</dt>
        <dd data-testid="labels">{document.labels.join(", ") || "none"}</dd>
        <dt>Metadata</dt>
        <dd data-testid="custom-metadata">
          {formatMetadata(document.customMetadata).split("\n").join(", ") || "none"}
        </dd>
      </dl>
      <h4 className="facts-heading">Processed with</h4>
      <dl className="facts" data-testid="processing-options">
        {describeOptions(document.processingOptions).map(({ term, value }) => (
          <Fragment key={term}>
            <dt>{term}</dt>
            <dd data-testid={`option-${term.toLowerCase().replace(/ /g, "-")}`}>{value}</dd>
          </Fragment>
        ))}
      </dl>
    </section>
  );
}
