// A small client of chatd's user API for tests that prepare data from Node rather than through the
// page: JSON-RPC over `POST /rpc` with the session cookie kept between calls and an Origin header
// equal to the daemon's origin (chatd refuses POSTs from another origin), and the SSE answer stream.

export class ApiClient {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
    this.cookie = '';
    this.nextId = 1;
  }

  /** Calls a method; resolves to the result, or throws an Error with `.rpc` (code, message, data). */
  async call(method, params) {
    const body = { jsonrpc: '2.0', id: this.nextId++, method };
    if (params !== undefined) body.params = params;
    const response = await fetch(`${this.baseUrl}/rpc`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Origin: this.baseUrl,
        ...(this.cookie ? { Cookie: this.cookie } : {}),
      },
      body: JSON.stringify(body),
    });
    for (const line of response.headers.getSetCookie?.() ?? []) {
      const [pair] = line.split(';');
      if (pair.startsWith('chatd_session=')) this.cookie = pair;
    }
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${method}: HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    if (json.error) {
      const err = new Error(`${method}: ${json.error.message} (${json.error.data?.reason ?? json.error.code})`);
      err.rpc = json.error;
      throw err;
    }
    return json.result;
  }

  /** The session cookie's value, for putting it into a browser context. */
  get session() {
    return this.cookie.replace(/^chatd_session=/, '');
  }

  /** Reads an answer's SSE stream until its `done` (or `error`) event; resolves to that event's data. */
  async waitAnswer(streamPath) {
    const response = await fetch(`${this.baseUrl}${streamPath}`, {
      headers: { Accept: 'text/event-stream', Cookie: this.cookie },
    });
    if (!response.ok) throw new Error(`GET ${streamPath}: HTTP ${response.status}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`${streamPath} ended without done/error`);
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const field = (name) => block.split('\n').filter((l) => l.startsWith(`${name}:`))
            .map((l) => l.slice(name.length + 1).replace(/^ /, '')).join('\n');
          const event = field('event');
          if (event === 'done' || event === 'error') return { event, data: JSON.parse(field('data')) };
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}

/** Signs up a password account; returns a client holding its session. */
export async function signUp(baseUrl, username, password = 'correct horse battery staple', invite) {
  const client = new ApiClient(baseUrl);
  await client.call('auth.password.register', invite ? { username, password, invite } : { username, password });
  return client;
}
