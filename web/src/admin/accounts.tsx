import { useEffect, useState } from 'preact/hooks';
import { type AdminUser, api, type AuditEntry, type Role, type Suspension, type User } from '../api.ts';
import { ErrorBox, Loading, Notice, RequireUser, Title, useLoad } from '../components.tsx';
import { dateTime, field } from '../format.ts';
import { userState } from '../state.ts';

const ROLES: { value: Role; label: string }[] = [
  { value: 'buyer', label: 'Buyer' },
  { value: 'staff', label: 'Door staff' },
  { value: 'organizer', label: 'Organizer' },
  { value: 'admin', label: 'Admin' },
];

const count = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function Account({ account, self, onSaved }: { account: AdminUser; self: boolean; onSaved: (u: Partial<AdminUser>) => void }) {
  const [role, setRole] = useState<Role>(account.role);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState('');
  async function run(change: () => Promise<string>) {
    setBusy(true);
    setError(null);
    setSaved('');
    try {
      setSaved(await change());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  function save(e: Event) {
    e.preventDefault();
    void run(async () => {
      const { user } = await api.send<{ user: User }>('PATCH', `/api/admin/users/${account.id}`, { role });
      onSaved(user);
      const label = ROLES.find((r) => r.value === user.role)?.label.toLowerCase();
      return `Role changed: ${account.name} is now ${label}. It applies to their next request.`;
    });
  }
  function suspend(suspended: boolean) {
    if (
      suspended &&
      !window.confirm(
        `Suspend ${account.name} (${account.email})? They are signed out everywhere at once, leave every waiting room, lose the seats they hold and their pending orders, and cannot sign in until the account is restored. Paid orders stay.`,
      )
    )
      return;
    void run(async () => {
      const res = await api.send<Suspension>('POST', `/api/admin/users/${account.id}/suspension`, { suspended });
      onSaved(res.user);
      return suspended
        ? `${account.name} is suspended: ${count(res.sessionsEnded, 'session')} ended, ` +
            `${count(res.cleared.queuesLeft, 'waiting room')} left, ${count(res.cleared.ordersCanceled, 'pending order')} canceled ` +
            '(the seats it held are on sale again).'
        : `${account.name} is restored and can sign in again.`;
    });
  }
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  function resetLink() {
    void run(async () => {
      const res = await api.send<{ token: string; expiresAt: string }>('POST', `/api/admin/users/${account.id}/password-reset`);
      setLink({ url: `${location.origin}/reset-password#${res.token}`, expiresAt: res.expiresAt });
      onSaved({});
      return `A password-reset link for ${account.name}: hand it to them yourself, by a way you know is theirs. It works once, until ${dateTime(res.expiresAt)}, and signs the account out everywhere when used.`;
    });
  }
  const selectId = `role-${account.id}`;
  return (
    <li class="py-3" data-testid="account">
      <form class="flex flex-wrap items-end justify-between gap-3" onSubmit={(e) => void save(e)}>
        <div class="min-w-0 flex-1">
          <p class="font-semibold">
            {account.name} {self && <span class="font-normal text-slate-700">(you)</span>}
            {account.suspended && (
              <span class="ml-2 rounded bg-red-100 px-1.5 py-0.5 text-sm font-semibold text-red-900">Suspended</span>
            )}
          </p>
          <p class="text-sm break-all text-slate-700">{account.email}</p>
        </div>
        <div class="flex flex-wrap items-end gap-2">
          <div>
            <label class="label" for={selectId}>
              Role of {account.name}
            </label>
            <select
              class="input"
              id={selectId}
              value={role}
              disabled={self}
              onChange={(e) => setRole(e.currentTarget.value as Role)}
            >
              {ROLES.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
          </div>
          <button class="btn" type="submit" disabled={busy || self || role === account.role}>
            Change role
          </button>
          {!self && (
            <button
              class="btn-secondary"
              type="button"
              disabled={busy}
              onClick={() => suspend(!account.suspended)}
              aria-label={`${account.suspended ? 'Restore' : 'Suspend'} ${account.name}`}
            >
              {account.suspended ? 'Restore' : 'Suspend'}
            </button>
          )}
          {!self && (
            <button
              class="btn-secondary"
              type="button"
              disabled={busy}
              onClick={resetLink}
              aria-label={`Password-reset link for ${account.name}`}
            >
              Reset link
            </button>
          )}
        </div>
      </form>
      {saved && (
        <p class="mt-1 text-sm text-green-900" role="status">
          {saved}
        </p>
      )}
      {link && (
        <div class="mt-1">
          <label class="label" for={`reset-${account.id}`}>
            Reset link for {account.name}
          </label>
          <input
            class="input font-mono text-sm"
            id={`reset-${account.id}`}
            readOnly
            value={link.url}
            onFocus={(e) => e.currentTarget.select()}
          />
        </div>
      )}
      <ErrorBox error={error} />
    </li>
  );
}

const roleName = (role: unknown) => ROLES.find((r) => r.value === role)?.label.toLowerCase() ?? String(role);

function auditLine(e: AuditEntry): string {
  const actor = e.actor ? e.actor.email : 'The system';
  const target = e.target?.email ?? 'a removed account';
  switch (e.action) {
    case 'role.changed':
      return `${actor} made ${target} ${roleName(e.details.to)} (was ${roleName(e.details.from)}).`;
    case 'account.suspended':
      return `${actor} suspended ${target}.`;
    case 'account.restored':
      return `${actor} restored ${target}.`;
    case 'password.changed':
      return `${target} changed their password (${Number(e.details.sessionsEnded ?? 0)} other sessions signed out).`;
    case 'password.reset_issued':
      return `${actor} made a password-reset link for ${target}.`;
    case 'password.reset':
      return `${target} set a new password through a reset link (${Number(e.details.sessionsEnded ?? 0)} sessions signed out).`;
    default:
      return `${actor}: ${e.action} (${target}).`;
  }
}

/** The latest changes to accounts, read again after each change made on this page. */
function RecentChanges({ version }: { version: number }) {
  const [log, error] = useLoad(() => api.get<{ entries: AuditEntry[] }>('/api/admin/audit?limit=20'), [version]);
  return (
    <section class="card mt-4" aria-labelledby="audit-heading" data-testid="audit">
      <h2 id="audit-heading" class="mb-2 text-lg font-semibold">
        Recent changes
      </h2>
      <ErrorBox error={error} />
      {!log && !error && <Loading what="Loading the changes" />}
      {log && log.entries.length === 0 && <p class="text-slate-700">No account has been changed yet.</p>}
      {log && log.entries.length > 0 && (
        <ol class="space-y-1 text-sm">
          {log.entries.map((e) => (
            <li key={e.id} class="break-words">
              <time class="text-slate-700" dateTime={e.at}>
                {dateTime(e.at)}
              </time>{' '}
              {auditLine(e)}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Accounts() {
  const me = userState.use();
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [changes, setChanges] = useState(0);
  async function load(q: string) {
    setError(null);
    try {
      const query = q.trim() ? `?q=${encodeURIComponent(q.trim())}` : '';
      setUsers((await api.get<{ users: AdminUser[] }>(`/api/admin/users${query}`)).users);
    } catch (err) {
      setError(err);
    }
  }
  useEffect(() => void load(''), []);
  return (
    <section class="mx-auto max-w-3xl">
      <Title sub="Give organizers, door staff and admins their roles; suspend an account that abuses the sale (a bot, a fraudulent buyer); make a password-reset link for someone who cannot sign in. Admins cannot change or suspend their own.">
        Accounts
      </Title>
      <form
        class="card flex flex-wrap items-end gap-2"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void load(field(new FormData(e.currentTarget), 'q'));
        }}
      >
        <div class="min-w-48 flex-1">
          <label class="label" for="accounts-q">
            E-mail, name or account id
          </label>
          <input class="input" id="accounts-q" name="q" type="search" maxLength={200} />
        </div>
        <button class="btn" type="submit">
          Find accounts
        </button>
      </form>
      <ErrorBox error={error} />
      {users === null && !error && <Loading what="Loading accounts" />}
      {users && users.length === 0 && (
        <div class="mt-3">
          <Notice>No account matches.</Notice>
        </div>
      )}
      {users && users.length > 0 && (
        <ul class="card mt-4 divide-y divide-slate-200">
          {users.map((u) => (
            <Account
              key={u.id}
              account={u}
              self={u.id === me?.id}
              onSaved={(saved) => {
                setUsers((all) => all && all.map((x) => (x.id === u.id ? { ...x, ...saved } : x)));
                setChanges((n) => n + 1);
              }}
            />
          ))}
        </ul>
      )}
      <RecentChanges version={changes} />
    </section>
  );
}

export function AccountsPage() {
  return (
    <RequireUser roles={['admin']}>
      <Accounts />
    </RequireUser>
  );
}
