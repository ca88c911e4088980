import { render } from 'preact';
import { Lazy } from './components.tsx';
import { AuthPage } from './pages/auth.tsx';
import { CheckoutPage, ConfirmationPage } from './pages/checkout.tsx';
import { EventPage } from './pages/event.tsx';
import { HomePage } from './pages/home.tsx';
import { SeatsPage } from './pages/seats.tsx';
import { TicketsPage } from './pages/tickets.tsx';
import { WaitingRoomPage } from './pages/waiting-room.tsx';
import { loadMe, pathState, signOut, userState } from './state.ts';
import './styles.css';

const organizer = () => import('./organizer/index.ts');

function route(path: string) {
  const p = path.split('?')[0]!.replace(/\/+$/, '') || '/';
  let m: RegExpExecArray | null;
  if (p === '/') return <HomePage />;
  if (p === '/signin' || p === '/signup') return <AuthPage mode={p === '/signin' ? 'signin' : 'signup'} />;
  if ((m = /^\/events\/([^/]+)$/.exec(p))) return <EventPage id={m[1]!} />;
  if ((m = /^\/events\/([^/]+)\/queue$/.exec(p))) return <WaitingRoomPage id={m[1]!} />;
  if ((m = /^\/events\/([^/]+)\/seats$/.exec(p))) return <SeatsPage id={m[1]!} />;
  if ((m = /^\/checkout\/([^/]+)$/.exec(p))) return <CheckoutPage id={m[1]!} />;
  if ((m = /^\/orders\/([^/]+)$/.exec(p))) return <ConfirmationPage id={m[1]!} />;
  if (p === '/tickets') return <TicketsPage />;
  if (p === '/account') return <Lazy load={async () => (await import('./pages/account.tsx')).AccountPage} props={{}} />;
  if (p === '/reset-password')
    return <Lazy load={async () => (await import('./pages/account.tsx')).ResetPasswordPage} props={{}} />;
  if (p === '/admin/accounts') return <Lazy load={async () => (await import('./admin/accounts.tsx')).AccountsPage} props={{}} />;
  if (p === '/checkin') return <Lazy load={async () => (await import('./staff/checkin.tsx')).CheckinPage} props={{}} />;
  if (p === '/organizer') return <Lazy load={async () => (await organizer()).OrganizerHome} props={{}} />;
  if (p === '/organizer/venues') return <Lazy load={async () => (await organizer()).VenuesPage} props={{}} />;
  if (p === '/organizer/venues/new') return <Lazy load={async () => (await organizer()).VenueForm} props={{}} />;
  if (p === '/organizer/events/new') return <Lazy load={async () => (await organizer()).EventForm} props={{ id: undefined }} />;
  if ((m = /^\/organizer\/events\/([^/]+)\/edit$/.exec(p))) {
    return <Lazy load={async () => (await organizer()).EventForm} props={{ id: m[1]! }} />;
  }
  if ((m = /^\/organizer\/events\/([^/]+)$/.exec(p)))
    return <Lazy load={async () => (await organizer()).Dashboard} props={{ id: m[1]! }} />;
  return (
    <div>
      <h1 class="text-2xl font-bold">Page not found</h1>
      <p class="mt-2">
        <a class="link" href="/">
          See all events
        </a>
      </p>
    </div>
  );
}

function Header() {
  const user = userState.use();
  const link = 'rounded px-2 py-1 text-slate-900 underline-offset-4 hover:underline';
  return (
    <header class="border-b border-slate-200 bg-white">
      <nav aria-label="Main" class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-3 gap-y-1 px-4 py-3">
        <a href="/" class="mr-auto text-xl font-extrabold text-blue-800">
          TicketMax
        </a>
        <a class={link} href="/">
          Events
        </a>
        {user && (
          <a class={link} href="/tickets">
            My tickets
          </a>
        )}
        {user && (user.role === 'organizer' || user.role === 'admin') && (
          <a class={link} href="/organizer">
            Organizer
          </a>
        )}
        {user && user.role !== 'buyer' && (
          <a class={link} href="/checkin">
            Check-in
          </a>
        )}
        {user?.role === 'admin' && (
          <a class={link} href="/admin/accounts">
            Accounts
          </a>
        )}
        {user === null && (
          <a class={link} href="/signin">
            Sign in
          </a>
        )}
        {user && (
          <a class={link} href="/account" title={`Signed in as ${user.email}`}>
            Account
          </a>
        )}
        {user && (
          <button type="button" class={link} onClick={() => void signOut()} title={`Signed in as ${user.email}`}>
            Sign out
          </button>
        )}
      </nav>
    </header>
  );
}

function App() {
  const path = pathState.use();
  return (
    <>
      <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:bg-white focus:p-2">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1} class="mx-auto max-w-6xl px-4 py-6">
        {route(path)}
      </main>
    </>
  );
}

void loadMe();
render(<App />, document.getElementById('app')!);
