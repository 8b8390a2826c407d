import { useEffect, useState } from "react";
import { ThumbnailSize } from "../gen/mivaa/extractor/v1/extractor_service_pb";
import { describeError, isUnauthenticated } from "../lib/errors";
import { thumbnailCache, type Thumbnail as Thumb, type ThumbnailRenderer } from "../lib/thumbnails";

export type ThumbnailState = { status: "loading" } | { status: "ready"; thumbnail: Thumb } | { status: "failed"; message: string };

/** The thumbnail of a document's first page or of a stored image, from the browser's cache when it is there. */
export function useThumbnail(
  clients: { extractor: ThumbnailRenderer },
  name: string,
  size: ThumbnailSize,
  onAuthError: () => void,
): ThumbnailState {
  const [state, setState] = useState<ThumbnailState>({ status: "loading" });
  useEffect(() => {
    let current = true;
    setState({ status: "loading" });
    thumbnailCache(clients)
      .get(name, size)
      .then(
        (thumbnail) => current && setState({ status: "ready", thumbnail }),
        (error: unknown) => {
          if (!current) return;
          if (isUnauthenticated(error)) onAuthError();
          setState({ status: "failed", message: describeError(error) });
        },
      );
    return () => {
      current = false;
    };
  }, [clients, name, size, onAuthError]);
  return state;
}

const SIDES: Record<ThumbnailSize, string> = {
  [ThumbnailSize.UNSPECIFIED]: "medium",
  [ThumbnailSize.SMALL]: "small",
  [ThumbnailSize.MEDIUM]: "medium",
  [ThumbnailSize.LARGE]: "large",
};

/** A thumbnail in a fixed box: a placeholder while it is drawn and when it cannot be (the reason on hover). */
export function Thumbnail({
  clients,
  onAuthError,
  name,
  label,
  size = ThumbnailSize.SMALL,
}: {
  clients: { extractor: ThumbnailRenderer };
  onAuthError: () => void;
  name: string;
  /** What the picture shows, for its alternative text. */
  label: string;
  size?: ThumbnailSize;
}) {
  const state = useThumbnail(clients, name, size, onAuthError);
  const box = `thumb thumb-${SIDES[size]}`;
  if (state.status === "ready") {
    const { url, width, height } = state.thumbnail;
    return (
      <span className={box} data-testid="thumbnail" data-status="ready">
        <img src={url} alt={label} width={width} height={height} />
      </span>
    );
  }
  const failed = state.status === "failed";
  return (
    <span
      className={`${box} thumb-placeholder`}
      data-testid="thumbnail"
      data-status={state.status}
      role="img"
      aria-label={failed ? `${label}: no preview (${state.message})` : `${label}: preview loading`}
      title={failed ? state.message : undefined}
    >
      <span aria-hidden="true">{failed ? "No preview" : "…"}</span>
    </span>
  );
}
