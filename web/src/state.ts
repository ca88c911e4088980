// App-wide state: the signed-in user and the current path, each a tiny observable.
import { useEffect, useState } from 'preact/hooks';
import { api, type User } from './api.ts';
import { forgetUser, rememberedUser } from './offline-page.ts';

function observable<T>(initial: T) {
  let value = initial;
  const listeners = new Set<(v: T) => void>();
  return {
    get: () => value,
    set(next: T) {
      value = next;
      for (const l of listeners) l(next);
    },
    use(): T {
      const [v, setV] = useState(value);
      useEffect(() => {
        listeners.add(setV);
        setV(value);
        return () => void listeners.delete(setV);
      }, []);
      return v;
    },
  };
}

/** undefined while the first /api/me is in flight, null when signed out. */
export const userState = observable<User | null | undefined>(undefined);
export const pathState = observable(location.pathname + location.search);

export async function loadMe() {
  try {
    userState.set((await api.get<{ user: User }>('/api/me')).user);
  } catch (err) {
    // No connection at all (not a refusal): the pages that open offline go on as the user this device remembers.
    userState.set(err instanceof TypeError ? rememberedUser() : null);
  }
}

export async function signOut() {
  await api.send('POST', '/api/auth/logout').catch(() => undefined);
  forgetUser();
  userState.set(null);
  navigate('/');
}

export function navigate(to: string, replace = false) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  pathState.set(location.pathname + location.search);
  window.scrollTo(0, 0);
}

addEventListener('popstate', () => pathState.set(location.pathname + location.search));

// Same-origin links move within the page instead of reloading it.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin || a.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
});

/** The query parameter `name` of the current path. */
export function queryParam(name: string): string | null {
  return new URLSearchParams(location.search).get(name);
}

/** The admission token of an event, kept for this tab so the seat page and checkout can send it. */
export const admission = {
  get: (eventId: string) => sessionStorage.getItem(`tm.admission.${eventId}`) ?? undefined,
  set: (eventId: string, token: string) => sessionStorage.setItem(`tm.admission.${eventId}`, token),
};

/** Re-renders every `ms` (countdowns). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
