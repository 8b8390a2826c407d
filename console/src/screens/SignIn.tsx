import { useState } from "react";
import { isExpired, parseToken, type Session } from "../lib/auth";
import { startOidcSignIn, type OidcConfig } from "../lib/oidc";
import { ErrorAlert } from "./ErrorAlert";

interface Props {
  devToken: string | null;
  oidc: OidcConfig | null;
  notice: string;
  onSignIn: (session: Session) => void;
}

export function SignIn({ devToken, oidc, notice, onSignIn }: Props) {
  const [pasted, setPasted] = useState("");
  const [error, setError] = useState("");
  const [leaving, setLeaving] = useState(false);

  function use(token: string) {
    try {
      const session = parseToken(token);
      if (isExpired(session)) throw new Error("This token has expired: get a new one.");
      onSignIn(session);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <main className="signin">
      <h1>mivaa console</h1>
      {notice && !error && (
        <p role="alert" className="error">
          {notice}
        </p>
      )}
      {oidc && (
        <section aria-labelledby="sso-heading">
          <h2 id="sso-heading">Your organisation</h2>
          <button
            type="button"
            className="primary"
            disabled={leaving}
            onClick={() => {
              setLeaving(true);
              startOidcSignIn(oidc).catch((e: Error) => {
                setLeaving(false);
                setError(e.message);
              });
            }}
          >
            Sign in with {new URL(oidc.issuer).host}
          </button>
        </section>
      )}
      <section aria-labelledby="dev-heading">
        <h2 id="dev-heading">Local mesh</h2>
        {devToken ? (
          <button type="button" className="primary" onClick={() => use(devToken)}>
            Sign in with the dev token
          </button>
        ) : (
          <p>
            Open the console link that <code>mivaa up</code> printed: it carries the local dev token, and a button here
            signs in with it.
          </p>
        )}
      </section>
      <form
        aria-labelledby="jwt-heading"
        onSubmit={(e) => {
          e.preventDefault();
          use(pasted);
        }}
      >
        <h2 id="jwt-heading">Paste a token</h2>
        <label htmlFor="jwt">JWT (issuer mivaa-dev, audience mivaa)</label>
        <textarea id="jwt" rows={4} value={pasted} onChange={(e) => setPasted(e.target.value)} />
        <button type="submit">Sign in</button>
        <ErrorAlert message={error} />
      </form>
    </main>
  );
}
