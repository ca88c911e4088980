import type { ComponentChildren, FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { plainMessage } from './api.ts';
import { navigate, userState } from './state.ts';

export function Title({ children, sub }: { children: string; sub?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${children} · TicketMax`;
  }, [children]);
  return (
    <div class="mb-4">
      <h1 class="text-2xl font-bold text-slate-900 sm:text-3xl">{children}</h1>
      {sub && <p class="mt-1 text-slate-700">{sub}</p>}
    </div>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div role="alert" class="my-3 rounded-md border border-red-300 bg-red-50 p-3 text-red-900">
      {plainMessage(error)}
    </div>
  );
}

export function Notice({ children, tone = 'info' }: { children: ComponentChildren; tone?: 'info' | 'ok' | 'warn' }) {
  const cls = {
    info: 'border-blue-300 bg-blue-50 text-blue-950',
    ok: 'border-green-400 bg-green-50 text-green-950',
    warn: 'border-amber-400 bg-amber-50 text-amber-950',
  }[tone];
  return <div class={`my-3 rounded-md border p-3 ${cls}`}>{children}</div>;
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p role="status" class="py-6 text-slate-700">
      {what}…
    </p>
  );
}

/** Shows children only to a signed-in user (with one of `roles`), else sends them to sign in. */
export function RequireUser({ roles, children }: { roles?: string[]; children: ComponentChildren }) {
  const user = userState.use();
  useEffect(() => {
    if (user === null) navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, true);
  }, [user]);
  if (!user) return <Loading />;
  if (roles && !roles.includes(user.role)) return <ErrorBox error={new Error('Your account is not allowed to see this page.')} />;
  return <>{children}</>;
}

/** Loads a page's code on first use, so the buyer pages do not carry the organizer's. */
export function Lazy<P extends object>({ load, props }: { load: () => Promise<FunctionComponent<P>>; props: P }) {
  const [Comp, setComp] = useState<FunctionComponent<P> | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    load().then((c) => setComp(() => c), setError);
  }, [load]);
  if (error) return <ErrorBox error={error} />;
  return Comp ? <Comp {...props} /> : <Loading />;
}

/** Runs an async loader when deps change; gives [data, error, reload]. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): [T | undefined, unknown, () => void] {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    fn().then(
      (d) => live && (setData(d), setError(null)),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return [data, error, () => setN((x) => x + 1)];
}
