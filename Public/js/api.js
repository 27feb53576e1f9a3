// The REST API client. The token lives in sessionStorage (this tab only) and travels as an
// Authorization header, never as a cookie, so other sites cannot make the browser use it.

const tokenKey = 'cutover.token';

export function token() {
  return sessionStorage.getItem(tokenKey) ?? '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(tokenKey, value);
  else sessionStorage.removeItem(tokenKey);
}

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(extra = {}) {
  const result = { ...extra };
  if (token()) result.Authorization = `Bearer ${token()}`;
  return result;
}

/** `api('/api/sites')`, `api(path, {method: 'POST', body: {...}})`. JSON or text by content type. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const init = { method, headers: headers({ Accept: 'application/json, text/plain' }), signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new APIError(0, 'network', 'Cannot reach the Cutover server. Is `cutover serve` still running?');
  }
  if (!response.ok) throw await errorFrom(response);
  const type = response.headers.get('Content-Type') ?? '';
  if (type.includes('application/json')) return response.json();
  const text = await response.text();
  return Object.assign(new String(text), { headers: response.headers });
}

async function errorFrom(response) {
  let code = 'http_error';
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    code = body?.error?.code ?? code;
    message = body?.error?.message ?? message;
  } catch {
    // Not JSON (a proxy in between?): keep the status line.
  }
  if (response.status === 401) {
    message = token()
      ? 'The server refused this API token. Check it against the server\u2019s CUTOVER_TOKEN and enter it again (top right).'
      : 'This needs the API token: enter the server\u2019s CUTOVER_TOKEN in the API token field (top right).';
  }
  return new APIError(response.status, code, message);
}

export const sitePath = (site, rest = '') => `/api/sites/${encodeURIComponent(site)}${rest}`;

/**
 * Follows a job's Server-Sent Events with fetch (so the token header goes along), calling
 * `onEvent(name, job)` for each event; resolves with the final job.
 */
export async function followJob(id, onEvent, signal) {
  const response = await fetch(`/api/jobs/${encodeURIComponent(id)}/events`, { headers: headers(), signal });
  if (!response.ok) throw await errorFrom(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (!data) continue;
      last = JSON.parse(data);
      onEvent(event, last);
    }
  }
  return last;
}
