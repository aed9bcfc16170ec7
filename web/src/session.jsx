// Who is logged in and what they may do, from GET /api/wcpd/ui/session. The UI hides what the API
// would refuse; the API still checks every call.
import React, { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { api, setUnauthenticatedHandler } from './api.js';

const SessionContext = createContext(null);

export function SessionProvider({ children }) {
  const [state, setState] = useState({ loading: true, session: null });

  const refresh = useCallback(async () => {
    try {
      const session = await api('GET', '/api/wcpd/ui/session');
      setState({ loading: false, session });
    } catch {
      setState({ loading: false, session: null });
    }
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => setState({ loading: false, session: null }));
    refresh();
  }, [refresh]);

  const login = useCallback(async (user, password) => {
    const basic = btoa(unescape(encodeURIComponent(`${user}:${password}`)));
    await api('POST', '/api/wcpd/ui/session', undefined, { Authorization: `Basic ${basic}` });
    await refresh();
  }, [refresh]);

  const logout = useCallback(async () => {
    try {
      await api('DELETE', '/api/wcpd/ui/session');
    } finally {
      setState({ loading: false, session: null });
    }
  }, []);

  return (
    <SessionContext.Provider value={{ ...state, login, logout, refresh }}>{children}</SessionContext.Provider>
  );
}

export function useSession() {
  const ctx = useContext(SessionContext);
  const privileges = (ctx.session && ctx.session.privileges) || [];
  // can(p) answers whether the user holds the global privilege p (auth.Privilege ids, e.g.
  // "Namespaces.Manage"); namespace-level roles come with each namespace's own answers.
  const can = (p) => privileges.includes(p);
  return { ...ctx, can };
}
