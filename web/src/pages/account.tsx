import { useState } from 'preact/hooks';
import { api, ApiError, type User } from '../api.ts';
import { ErrorBox, Notice, RequireUser, Title } from '../components.tsx';
import { field } from '../format.ts';
import { userState } from '../state.ts';

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

function PasswordForm() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [ended, setEnded] = useState<number | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    const formElement = e.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const currentPassword = field(form, 'currentPassword');
    const newPassword = field(form, 'newPassword');
    setEnded(null);
    if (newPassword !== field(form, 'repeatPassword')) {
      setError(new Error('The new password and its repeat are not the same.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const res = await api.send<{ sessionsEnded: number }>('POST', '/api/me/password', { currentPassword, newPassword });
      formElement.reset();
      setEnded(res.sessionsEnded);
    } catch (err) {
      setError(
        err instanceof ApiError && err.code === 'INVALID_CREDENTIALS' ? new Error('That is not your current password.') : err,
      );
    } finally {
      setBusy(false);
    }
  }

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

function Account() {
  const user = userState.use();
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
      <PasswordForm />
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
