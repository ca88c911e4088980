import { useState } from 'preact/hooks';
import { api, type User } from '../api.ts';
import { ErrorBox, Title } from '../components.tsx';
import { field } from '../format.ts';
import { navigate, queryParam, userState } from '../state.ts';

export function AuthPage({ mode }: { mode: 'signin' | 'signup' }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const next = queryParam('next') ?? '/';
  const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/';

  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const body: Record<string, string> = { email: field(form, 'email'), password: field(form, 'password') };
    if (mode === 'signup') body.name = field(form, 'name');
    setBusy(true);
    setError(null);
    try {
      const res = await api.send<{ user: User }>('POST', mode === 'signin' ? '/api/auth/login' : '/api/auth/signup', body);
      userState.set(res.user);
      navigate(safeNext, true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const other = mode === 'signin' ? '/signup' : '/signin';
  return (
    <section class="mx-auto max-w-md">
      <Title>{mode === 'signin' ? 'Sign in' : 'Create an account'}</Title>
      <form class="card flex flex-col gap-4" onSubmit={(e) => void submit(e)}>
        {mode === 'signup' && (
          <div>
            <label class="label" for="name">
              Your name
            </label>
            <input class="input" id="name" name="name" required maxLength={100} autoComplete="name" />
          </div>
        )}
        <div>
          <label class="label" for="email">
            E-mail
          </label>
          <input class="input" id="email" name="email" type="email" required autoComplete="email" />
        </div>
        <div>
          <label class="label" for="password">
            Password{mode === 'signup' && ' (at least 8 characters)'}
          </label>
          <input
            class="input"
            id="password"
            name="password"
            type="password"
            required
            minLength={mode === 'signup' ? 8 : 1}
            autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
          />
        </div>
        <ErrorBox error={error} />
        <button class="btn" type="submit" disabled={busy}>
          {mode === 'signin' ? 'Sign in' : 'Create account'}
        </button>
        <p class="text-sm">
          {mode === 'signin' ? 'New here? ' : 'Already have an account? '}
          <a class="link" href={`${other}?next=${encodeURIComponent(safeNext)}`}>
            {mode === 'signin' ? 'Create an account' : 'Sign in'}
          </a>
        </p>
        {mode === 'signin' && (
          <p class="text-sm text-slate-700">
            Forgot your password? Ask this site's support: an administrator can give you a link to set a new one.
          </p>
        )}
      </form>
    </section>
  );
}
