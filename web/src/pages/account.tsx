import { useState } from 'preact/hooks';
import { api, ApiError, type Session, type User } from '../api.ts';
import { ErrorBox, Loading, Notice, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime, field } from '../format.ts';
import { loadMe, userState } from '../state.ts';

const ROLE_NAMES: Record<User['role'], string> = {
  buyer: 'Buyer',
  organizer: 'Organizer',
  staff: 'Door staff',
  admin: 'Administrator',
};

function PasswordField({ name, label, current = false }: { name: string; label: string; current?: boolean }) {
  return (
    <div>
      <label class="label" for={name}>
        {label}
      </label>
      <input
        class="input"
        id={name}
        name={name}
        type="password"
        required
        minLength={current ? 1 : 8}
        maxLength={256}
        autoComplete={current ? 'current-password' : 'new-password'}
      />
    </div>
  );
}

/**
 * A form that sets a new password, typed twice: `send` posts it and says how many sessions ended;
 * `explain` puts an error the form expects in the user's words.
 */
function useNewPasswordForm(
  send: (form: FormData, newPassword: string) => Promise<{ sessionsEnded: number }>,
  explain: (err: unknown) => unknown,
) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [ended, setEnded] = useState<number | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    const formElement = e.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const newPassword = field(form, 'newPassword');
    setEnded(null);
    if (newPassword !== field(form, 'repeatPassword')) {
      setError(new Error('The new password and its repeat are not the same.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const res = await send(form, newPassword);
      formElement.reset();
      setEnded(res.sessionsEnded);
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  }
  return { submit, error, busy, ended };
}

function PasswordForm({ onChanged }: { onChanged: () => void }) {
  const { submit, error, busy, ended } = useNewPasswordForm(
    async (form, newPassword) => {
      const currentPassword = field(form, 'currentPassword');
      const res = await api.send<{ sessionsEnded: number }>('POST', '/api/me/password', { currentPassword, newPassword });
      onChanged();
      return res;
    },
    (err) =>
      err instanceof ApiError && err.code === 'INVALID_CREDENTIALS' ? new Error('That is not your current password.') : err,
  );

  return (
    <form class="card flex flex-col gap-4" onSubmit={(e) => void submit(e)} aria-labelledby="password-heading">
      <h2 id="password-heading" class="text-lg font-semibold">
        Change password
      </h2>
      <p class="text-sm text-slate-700">Every other device signed in to this account is signed out; this one stays signed in.</p>
      <PasswordField name="currentPassword" label="Current password" current />
      <PasswordField name="newPassword" label="New password (at least 8 characters)" />
      <PasswordField name="repeatPassword" label="New password again" />
      <ErrorBox error={error} />
      {ended !== null && (
        <div role="status" data-testid="password-changed">
          <Notice tone="ok">
            Your password is changed.{' '}
            {ended === 0
              ? 'No other device was signed in.'
              : `${ended} other ${ended === 1 ? 'session was' : 'sessions were'} signed out.`}
          </Notice>
        </div>
      )}
      <button class="btn" type="submit" disabled={busy}>
        Change password
      </button>
    </form>
  );
}

/** A User-Agent told in a few words: the browser and the system, when they can be read. */
function deviceName(ua: string | null): string {
  if (!ua) return 'A device that did not say what it is';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : '';
  const system = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return browser && system ? `${browser} on ${system}` : ua.slice(0, 60);
}

function Devices({ version }: { version: number }) {
  const [error, setError] = useState<unknown>(null);
  const [sessions, loadError, reload] = useLoad(() => api.get<{ sessions: Session[] }>('/api/me/sessions'), [version]);
  async function signOut(id: string) {
    setError(null);
    try {
      await api.send('DELETE', `/api/me/sessions/${id}`);
      reload();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <section class="card mt-4" aria-labelledby="devices-heading" data-testid="devices">
      <h2 id="devices-heading" class="mb-2 text-lg font-semibold">
        Signed-in devices
      </h2>
      <ErrorBox error={error ?? loadError} />
      {!sessions && !loadError && <Loading what="Loading your devices" />}
      {sessions && (
        <ul class="divide-y divide-slate-200">
          {sessions.sessions.map((x) => (
            <li key={x.id} class="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="device">
              <div class="min-w-0">
                <p class="font-semibold">
                  {deviceName(x.device)}
                  {x.current && <span class="font-normal text-slate-700"> (this device)</span>}
                </p>
                <p class="text-sm text-slate-700">Signed in {dateTime(x.createdAt)}</p>
              </div>
              {!x.current && (
                <button
                  type="button"
                  class="btn-secondary"
                  onClick={() => void signOut(x.id)}
                  aria-label={`Sign out ${deviceName(x.device)}, signed in ${dateTime(x.createdAt)}`}
                >
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Account() {
  const user = userState.use();
  const [version, setVersion] = useState(0);
  if (!user) return null;
  return (
    <section class="mx-auto max-w-md">
      <Title>Your account</Title>
      <dl class="card mb-4 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
        <dt class="font-semibold">Name</dt>
        <dd>{user.name}</dd>
        <dt class="font-semibold">E-mail</dt>
        <dd class="break-all">{user.email}</dd>
        <dt class="font-semibold">Role</dt>
        <dd>{ROLE_NAMES[user.role]}</dd>
      </dl>
      <PasswordForm onChanged={() => setVersion((n) => n + 1)} />
      <Devices version={version} />
    </section>
  );
}

export function AccountPage() {
  return (
    <RequireUser>
      <Account />
    </RequireUser>
  );
}

/**
 * /reset-password#<token>: a new password through the link an admin handed out. The token rides
 * in the fragment, which the browser never sends, so it stays out of every server's logs.
 */
export function ResetPasswordPage() {
  const [token] = useState(() => decodeURIComponent(window.location.hash.replace(/^#/, '')));
  const { submit, error, busy, ended } = useNewPasswordForm(
    async (_form, newPassword) => {
      const res = await api.send<{ sessionsEnded: number }>('POST', '/api/auth/password-reset', { token, newPassword });
      // If this browser was signed in to that account, it is signed out now with every other session.
      void loadMe();
      return res;
    },
    (err) =>
      err instanceof ApiError && (err.details.fields as { field: string }[] | undefined)?.some((f) => f.field === 'token')
        ? new Error('This link is not valid any more: it was used already, has expired or was cut short. Ask for a new one.')
        : err,
  );

  return (
    <section class="mx-auto max-w-md">
      <Title sub="Choose a new password for your account. Every device signed in to it is signed out.">Set a new password</Title>
      {ended !== null ? (
        <div role="status" data-testid="password-reset">
          <Notice tone="ok">
            Your new password is set
            {ended > 0 ? ` and ${ended} ${ended === 1 ? 'session was' : 'sessions were'} signed out` : ''}.{' '}
            <a class="underline" href="/signin">
              Sign in
            </a>{' '}
            with it.
          </Notice>
        </div>
      ) : !token ? (
        <Notice>This page needs the whole reset link you were given. Ask whoever gave it to you for a new one.</Notice>
      ) : (
        <form class="card flex flex-col gap-4" onSubmit={(e) => void submit(e)} aria-label="Set a new password">
          <PasswordField name="newPassword" label="New password (at least 8 characters)" />
          <PasswordField name="repeatPassword" label="New password again" />
          <ErrorBox error={error} />
          <button class="btn" type="submit" disabled={busy}>
            Set password
          </button>
        </form>
      )}
    </section>
  );
}
