import { useEffect, useRef, useState } from "react";
import type { ScreenProps } from "../App";
import type { ImageHit } from "../gen/mivaa/search/v1/search_service_pb";
import { imageModelNote, loadImageUrls, pickQueryImage, type ImageModelNote } from "../lib/images";
import { documentHref } from "../lib/route";
import { useCall } from "../lib/useCall";
import { ErrorAlert } from "./ErrorAlert";
import { Dropzone } from "./Parts";

interface Shown {
  hit: ImageHit;
  url: string;
}

const TOP_K = 24;

/** SearchImages by a description (the image model's text tower) or by a dropped picture; hits open their page at the image's box. */
export function ImageSearch({ clients, onAuthError }: ScreenProps) {
  const [text, setText] = useState("");
  const [model, setModel] = useState<ImageModelNote | null>(null);
  const [query, setQuery] = useState<{ label: string; url: string } | null>(null);
  const [shown, setShown] = useState<Shown[] | null>(null);
  const [refusal, setRefusal] = useState("");
  const urls = useRef<string[]>([]);
  const modelCall = useCall(onAuthError);
  const { busy, error, run } = useCall(onAuthError);

  useEffect(() => {
    void modelCall.run(async (signal) => setModel(imageModelNote((await clients.embedder.listModels({}, { signal })).models)));
  }, [clients, modelCall.run]);
  useEffect(() => () => urls.current.forEach((url) => URL.revokeObjectURL(url)), []);

  function searchBy(queryOf: { case: "text"; value: string } | { case: "image"; value: Uint8Array }) {
    setRefusal("");
    void run(async (signal) => {
      const response = await clients.search.searchImages({ query: queryOf, topK: TOP_K }, { signal });
      const fresh: string[] = [];
      const loaded = await loadImageUrls(clients, response.hits.map((hit) => hit.image!).filter(Boolean), signal, fresh);
      urls.current.forEach((url) => URL.revokeObjectURL(url));
      urls.current = fresh;
      setShown(response.hits.filter((hit) => hit.image).map((hit, i) => ({ hit, url: loaded[i] })));
    });
  }

  async function byPicture(files: ArrayLike<File>) {
    const picked = pickQueryImage(files);
    if (typeof picked === "string") return setRefusal(picked);
    if (query) URL.revokeObjectURL(query.url);
    setQuery({ label: picked.name, url: URL.createObjectURL(picked) });
    searchBy({ case: "image", value: new Uint8Array(await picked.arrayBuffer()) });
  }

  return (
    <div>
      <h2>Image search</h2>
      <p className="muted" data-testid="image-model">
        {model === null ? "Looking up the image model…" : model.name ? <>Image model <strong>{model.name}</strong> ({model.source || "source not recorded"})</> : null}
      </p>
      {model?.note && (
        <p className="note" role="note" data-testid="image-model-note">
          {model.note}
        </p>
      )}
      <ErrorAlert message={modelCall.error} />
      <form
        className="row"
        role="search"
        aria-label="Images by description"
        onSubmit={(e) => {
          e.preventDefault();
          if (query) URL.revokeObjectURL(query.url);
          setQuery(null);
          searchBy({ case: "text", value: text });
        }}
      >
        <label htmlFor="image-query" className="visually-hidden">
          Describe the picture
        </label>
        <input id="image-query" type="search" value={text} placeholder="Describe the picture: a lighthouse at night" onChange={(e) => setText(e.target.value)} />
        <button type="submit" className="primary" disabled={busy}>
          Find images
        </button>
      </form>
      <Dropzone onFiles={(files) => void byPicture(files)}>
        <p>Drop a picture here to find similar ones, or</p>
        <label className="button">
          choose a picture
          <input
            type="file"
            accept="image/png,image/jpeg,image/webp,image/gif,image/bmp,image/tiff"
            className="visually-hidden"
            data-testid="image-query-input"
            onChange={(e) => {
              if (e.target.files) void byPicture(e.target.files);
              e.target.value = "";
            }}
          />
        </label>
        {query && (
          <figure className="query-image">
            <img src={query.url} alt={`Your picture: ${query.label}`} />
            <figcaption>Similar to {query.label}</figcaption>
          </figure>
        )}
      </Dropzone>
      <ErrorAlert message={refusal || error} />
      <div aria-busy={busy} aria-live="polite">
        {shown && shown.length === 0 && <p>No images found. Images are searchable once a document with pictures has been processed with an image model.</p>}
        <ul className="gallery image-hits" aria-label="Image results">
          {shown?.map(({ hit, url }) => {
            const image = hit.image!;
            const place = image.placements[0];
            const title = hit.documentTitle || hit.document;
            const where = place ? `${title}, page ${place.page}` : title;
            return (
              <li key={`${hit.document}/${image.sha256}`} data-testid="image-hit">
                <a href={documentHref(hit.document, place?.page ?? 1, { box: place?.bbox })} data-testid="image-hit-link">
                  <img src={url} alt={image.caption || `Image in ${where}`} width={image.width} height={image.height} />
                  <span>{where}</span>
                </a>
                {image.caption && <span className="muted">{image.caption}</span>}
                <span className="muted">similarity {hit.score.toFixed(3)}</span>
              </li>
            );
          })}
        </ul>
      </div>
    </div>
  );
}
