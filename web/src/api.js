// The UI's one way to reach wcpd: the same vCenter API (/api/...) the CLI and SDKs use, with the
// session cookie the login set. X-Wcpd-UI tells the server the cookie may stand for the session
// header (a cross-site form cannot send a custom header), so the API's own privilege checks decide
// everything the UI shows and does.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

export class ApiError extends Error {
  constructor(status, body) {
    // A vAPI error's first message says what went wrong; the others are details (a precheck's
    // findings, say), shown under it unless the first already says them.
    const messages = ((body && body.messages) || []).map((m) => m.default_message).filter(Boolean);
    super(messages[0] || (body && body.error_type) || `HTTP ${status}`);
    this.details = messages.slice(1).filter((m) => !messages[0].includes(m.replace(/\.$/, '')));
    this.status = status;
    this.type = body && body.error_type;
    this.body = body;
  }
}

// onUnauthenticated is set by the session provider: a 401 anywhere means the session ended.
let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

export async function api(method, path, body, headers = {}) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { 'X-Wcpd-UI': '1', Accept: 'application/json', ...headers },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/api/wcpd/ui/session')) onUnauthenticated();
    throw new ApiError(res.status, data);
  }
  return data;
}

// useApi reads path and follows it (the client's default refetch interval); pass enabled: false to
// wait for an input, or refetchInterval to change the pace.
export function useApi(path, options = {}) {
  return useQuery({ queryKey: [path], queryFn: () => api('GET', path), enabled: !!path, ...options });
}

// useApiMutation runs fn(vars) => api(...) and then refreshes every query, so each page shows what
// the change did without a reload.
export function useApiMutation(fn, options = {}) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    ...options,
    onSuccess: (...args) => {
      client.invalidateQueries();
      if (options.onSuccess) options.onSuccess(...args);
    },
  });
}
