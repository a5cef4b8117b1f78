/** Session gate: checks the cookie session once, then shows the login page or the console. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Spin } from 'antd';
import { api, hasCsrfToken, onUnauthenticated, setCsrfToken } from './api.ts';
import { LoginPage } from './pages/LoginPage.tsx';
import { Shell } from './layout/Shell.tsx';
import { navigate, useRoute } from './router.ts';
import { SessionContext, type Session } from './session.ts';
import type { User } from './types.ts';

type State = { status: 'checking' } | { status: 'out' } | { status: 'in'; user: User };

/** The whole console. */
export function App() {
  const [state, setState] = useState<State>({ status: 'checking' });
  const route = useRoute();

  useEffect(() => {
    // Without the CSRF token (a new tab) the cookie alone cannot write: ask for a fresh login.
    if (!hasCsrfToken()) {
      setState({ status: 'out' });
      return;
    }
    api.get<User>('/auth/me').then(
      (user) => setState({ status: 'in', user }),
      () => setState({ status: 'out' }),
    );
  }, []);

  useEffect(
    () =>
      onUnauthenticated(() => {
        setCsrfToken(null);
        setState({ status: 'out' });
      }),
    [],
  );

  const loggedIn = useCallback((user: User) => {
    setState({ status: 'in', user });
    if (route.page === 'login') navigate('/', true);
  }, [route.page]);

  const session = useMemo<Session | null>(() => {
    if (state.status !== 'in') return null;
    return {
      user: state.user,
      async logout() {
        try {
          await api.post('/auth/logout');
        } finally {
          setCsrfToken(null);
          setState({ status: 'out' });
        }
      },
    };
  }, [state]);

  if (state.status === 'checking') return <Spin fullscreen tip="Loading Canopy" />;
  if (!session) return <LoginPage onLoggedIn={loggedIn} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell route={route} />
    </SessionContext.Provider>
  );
}
