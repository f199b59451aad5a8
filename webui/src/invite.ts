// The invite code from an invite link (`/?ref=CODE`), remembered in this browser until the visitor
// signs up, then sent with the registration.

const KEY = 'chatd.invite';
const CODE_RE = /^[A-Za-z0-9_-]{1,64}$/;
let memory: string | null = null;

/** Takes `ref` (or `invite`) out of the address and remembers it. Call once at start-up. */
export function captureInvite(): void {
  const params = new URLSearchParams(location.search);
  const code = (params.get('ref') ?? params.get('invite') ?? '').trim();
  if (!params.has('ref') && !params.has('invite')) return;
  if (CODE_RE.test(code)) {
    memory = code;
    try {
      localStorage.setItem(KEY, code);
    } catch {
      // private mode: remembered for this page only
    }
  }
  params.delete('ref');
  params.delete('invite');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
}

/** The remembered invite code, if any. */
export function savedInvite(): string | undefined {
  try {
    const code = localStorage.getItem(KEY);
    if (code && CODE_RE.test(code)) return code;
  } catch {
    // fall back to this page's memory
  }
  return memory ?? undefined;
}

/** Forgets the invite code (after a successful sign-up). */
export function clearInvite(): void {
  memory = null;
  try {
    localStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
