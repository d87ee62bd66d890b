// The dashboard session: the JWT from register / login.
//
// Kept in memory and mirrored to sessionStorage, never localStorage: sessionStorage is
// scoped to this origin and this one tab and is cleared when the tab closes, so a reload
// keeps the merchant logged in but nothing outlives the tab. (An HttpOnly cookie would
// need the API to set it; the contract hands the token to the client instead.)

const STORAGE_KEY = 'payloops.dashboard.session';

interface Session {
  token: string;
  expiresAt: string;
}

function expired(session: Session): boolean {
  const at = Date.parse(session.expiresAt);
  return Number.isFinite(at) && at <= Date.now();
}

function restore(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.token !== 'string' || !parsed.token) return null;
    const session = { token: parsed.token, expiresAt: String(parsed.expiresAt ?? '') };
    return expired(session) ? null : session;
  } catch {
    return null;
  }
}

class Auth {
  #session = $state<Session | null>(restore());

  /** The bearer token, or null when logged out (or the token has expired). */
  get token(): string | null {
    const session = this.#session;
    return session && !expired(session) ? session.token : null;
  }

  get loggedIn(): boolean {
    return this.token !== null;
  }

  login(token: string, expiresAt: string): void {
    this.#session = { token, expiresAt };
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.#session));
    } catch {
      // Storage disabled: the session lives in memory only (lost on reload).
    }
  }

  logout(): void {
    this.#session = null;
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored.
    }
  }
}

export const auth = new Auth();
