// Runs one call at a time for a screen: the latest wins, errors become plain words,
// an invalid token signs out, and a call still running when the screen goes away is aborted.
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, isUnauthenticated } from "./errors";

export function useCall(onAuthError: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const current = useRef<AbortController | null>(null);
  useEffect(() => () => current.current?.abort(), []);

  const run = useCallback(
    async (work: (signal: AbortSignal) => Promise<void>) => {
      current.current?.abort();
      const abort = new AbortController();
      current.current = abort;
      setBusy(true);
      setError("");
      try {
        await work(abort.signal);
      } catch (e) {
        if (abort.signal.aborted) return;
        if (isUnauthenticated(e)) return onAuthError();
        setError(describeError(e));
      } finally {
        if (current.current === abort) setBusy(false);
      }
    },
    [onAuthError],
  );
  return { busy, error, run };
}
