import { useCallback, useEffect, useMemo, useState } from "react";
import { isExpired, loadSession, parseToken, saveSession, takeDevTokenFromUrl, type Session } from "./lib/auth";
import { finishOidcSignIn, loadOidcConfig, type OidcConfig } from "./lib/oidc";
import { makeClients } from "./lib/api";
import { SIGNED_OUT_MESSAGE } from "./lib/errors";
import { SignIn } from "./screens/SignIn";
import { Upload } from "./screens/Upload";
import { Search } from "./screens/Search";
import { ImageSearch } from "./screens/ImageSearch";
import { Admin } from "./screens/Admin";
import { Ask } from "./screens/Ask";
import { Documents } from "./screens/Documents";
import { DocumentView } from "./screens/DocumentView";
import { parseRoute, screenHref, SCREENS, type Route } from "./lib/route";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  return route;
}

export interface ScreenProps {
  clients: ReturnType<typeof makeClients>;
  /** Called with any error a call ends with: an invalid token signs out. */
  onAuthError: () => void;
}

export function App() {
  const [devToken] = useState(() => takeDevTokenFromUrl());
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState("");
  const route = useRoute();
  // A document is opened from Documents (or a hit, or a citation): its tab stays lit.
  const screen = route.screen === "Document" ? "Documents" : route.screen;

  const signIn = useCallback((next: Session) => {
    saveSession(next);
    setNotice("");
    setSession(next);
  }, []);
  const signOut = useCallback((message = "") => {
    saveSession(null);
    setNotice(message);
    setSession(null);
  }, []);
  const onAuthError = useCallback(() => signOut(SIGNED_OUT_MESSAGE), [signOut]);

  // The gateway's OpenID provider, if any; and a sign-in it sent back here (?code&state).
  const [oidc, setOidc] = useState<OidcConfig | null>(null);
  useEffect(() => {
    void loadOidcConfig().then(setOidc);
    finishOidcSignIn()
      .then((token) => token && signIn(parseToken(token)))
      .catch((e: Error) => signOut(e.message));
  }, [signIn, signOut]);

  // A token that expires while the page is open leads back to sign-in.
  useEffect(() => {
    if (!session) return;
    const wait = Math.max(0, session.expiresAt - Date.now());
    const timer = window.setTimeout(() => isExpired(session) && onAuthError(), Math.min(wait + 500, 2 ** 31 - 1));
    return () => window.clearTimeout(timer);
  }, [session, onAuthError]);

  const clients = useMemo(() => (session ? makeClients(session.token) : null), [session]);

  if (!session || !clients) {
    return <SignIn devToken={devToken} oidc={oidc} notice={notice} onSignIn={signIn} />;
  }
  const props: ScreenProps = { clients, onAuthError };
  const isAdmin = session.scopes.includes("admin");
  // The admin screen is offered only to an admin token (the gateway refuses its calls to others anyway).
  const screens = SCREENS.filter((name) => name !== "Admin" || isAdmin);
  return (
    <div className="app">
      <header className="top">
        <h1>mivaa console</h1>
        <nav aria-label="Screens">
          {screens.map((name) => (
            <button
              key={name}
              type="button"
              className={name === screen ? "tab active" : "tab"}
              aria-current={name === screen ? "page" : undefined}
              onClick={() => (window.location.hash = screenHref(name))}
            >
              {name}
            </button>
          ))}
        </nav>
        <div className="who" data-testid="who">
          <span>
            tenant <strong>{session.tenant}</strong>
          </span>
          <span>scopes {session.scopes.join(", ") || "none"}</span>
          <button type="button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        {/* Every screen stays mounted, so an upload keeps watching while you search. */}
        <section hidden={screen !== "Upload"} aria-label="Upload">
          <Upload {...props} />
        </section>
        <section hidden={screen !== "Search"} aria-label="Search">
          <Search {...props} />
        </section>
        <section hidden={screen !== "Images"} aria-label="Images">
          <ImageSearch {...props} />
        </section>
        <section hidden={screen !== "Ask"} aria-label="Ask">
          <Ask {...props} />
        </section>
        {route.screen === "Documents" && (
          <section aria-label="Documents">
            <Documents {...props} />
          </section>
        )}
        {route.screen === "Admin" && (
          <section aria-label="Admin">
            {isAdmin ? <Admin {...props} /> : <p className="error">The admin screen needs a token with the admin scope.</p>}
          </section>
        )}
        {route.screen === "Document" && (
          <DocumentView
            key={route.name}
            {...props}
            name={route.name}
            page={route.page}
            box={route.box}
            text={route.text}
            image={route.image}
            canWrite={session.scopes.includes("write") || session.scopes.includes("admin")}
          />
        )}
      </main>
    </div>
  );
}
