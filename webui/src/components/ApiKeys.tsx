// "API keys" in the account dialog: personal keys for the user's own clients (Chatbox, Cherry
// Studio, the openai SDK …) that spend the same credits. A new key is shown once, in full, with a
// copy button; afterwards only its masked form, its name and when it was last used (to the
// minute). Whether the questions asked with them show in the history is the user's choice.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { formatDateTime, t } from '../i18n';
import type { ApiKey } from '../types';
import { copyText } from '../util';

/** The server refuses an eleventh key; the form says so before asking. */
export const MAX_API_KEYS = 10;

interface Props {
  fail: (err: unknown) => string;
  /** Whether API conversations are listed in the history; null until known. */
  showApiHistory: boolean | null;
  onShowApiHistory: (shown: boolean) => void;
  /** The history's content changed: API conversations are now shown or hidden. */
  onHistoryChanged: () => void;
}

export function ApiKeysPanel({ fail, showApiHistory, onShowApiHistory, onHistoryChanged }: Props) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const baseUrl = `${location.origin}/v1`;

  const load = () =>
    api.apiKeys().then(
      (r) => setKeys(r.items),
      (err) => setError(fail(err)),
    );
  useEffect(() => void load(), []);

  const create = async (e: Event) => {
    e.preventDefault();
    const wanted = name.trim();
    if (busy || wanted === '') return;
    setBusy(true);
    setError(null);
    try {
      const { key } = await api.createApiKey(wanted);
      setCreated({ name: wanted, key });
      setName('');
      await load();
    } catch (err) {
      setError(err instanceof RpcError && err.reason === 'forbidden' ? t('apikeys.forbidden') : fail(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: number) => {
    setConfirming(null);
    setError(null);
    try {
      await api.revokeApiKey(id);
      await load();
    } catch (err) {
      setError(fail(err));
    }
  };

  const full = keys !== null && keys.length >= MAX_API_KEYS;
  return (
    <div class="apikeys" data-testid="apikeys">
      <p class="hint" data-testid="apikeys-intro">{t('apikeys.intro')}</p>
      <CopyRow label={t('apikeys.baseUrl')} value={baseUrl} testid="apikeys-base-url" />
      {created && <NewKey created={created} onDone={() => setCreated(null)} />}
      <form class="apikeys-create" onSubmit={create} noValidate>
        <label class="field">
          <span>{t('apikeys.name')}</span>
          <span class="invite-row">
            <input
              ref={input}
              value={name}
              maxLength={64}
              placeholder={t('apikeys.namePlaceholder')}
              autocomplete="off"
              disabled={full}
              onInput={(e) => setName(e.currentTarget.value)}
              data-testid="apikeys-name"
            />
            <button
              type="submit"
              class="btn btn-primary"
              disabled={busy || full || name.trim() === ''}
              aria-busy={busy}
              data-testid="apikeys-create"
            >
              {t('apikeys.create')}
            </button>
          </span>
        </label>
        {full && <p class="hint" data-testid="apikeys-full">{t('apikeys.full', { n: MAX_API_KEYS })}</p>}
      </form>
      {error && <p class="form-error" role="alert" data-testid="apikeys-error">{error}</p>}
      {keys === null && !error && <p class="hint" aria-busy="true">{t('usage.loading')}</p>}
      {keys !== null && keys.length === 0 && <p class="hint" data-testid="apikeys-empty">{t('apikeys.empty')}</p>}
      <HistoryChoice
        shown={showApiHistory}
        onShown={onShowApiHistory}
        fail={fail}
        setError={setError}
        onChanged={onHistoryChanged}
      />
      {keys !== null && keys.length > 0 && (
        <ol class="ledger" data-testid="apikeys-list">
          {keys.map((k) => (
            <li key={k.id} class="ledger-row" data-testid="apikey-item" data-id={k.id}>
              <div class="ledger-what">
                <span class="ledger-reason">{k.name}</span>
                <span class="hint">
                  <code class="apikey-masked">{k.masked}</code>
                  {' · '}
                  {k.last_used_at ? t('apikeys.lastUsed', { at: formatDateTime(k.last_used_at) }) : t('apikeys.neverUsed')}
                </span>
              </div>
              <div class="ledger-change">
                {confirming === k.id ? (
                  <span class="apikey-confirm">
                    <button type="button" class="btn btn-stop" onClick={() => void revoke(k.id)} data-testid="apikey-revoke-yes">
                      {t('apikeys.revokeYes')}
                    </button>
                    <button type="button" class="btn btn-quiet" onClick={() => setConfirming(null)}>
                      {t('apikeys.revokeNo')}
                    </button>
                  </span>
                ) : (
                  <button type="button" class="btn" onClick={() => setConfirming(k.id)} data-testid="apikey-revoke">
                    {t('apikeys.revoke')}
                  </button>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** Whether the conversations asked through the API are listed in the web history. */
function HistoryChoice({
  shown,
  onShown,
  fail,
  setError,
  onChanged,
}: {
  shown: boolean | null;
  onShown: (shown: boolean) => void;
  fail: (err: unknown) => string;
  setError: (e: string | null) => void;
  onChanged: () => void;
}) {
  const change = async (wanted: boolean) => {
    setError(null);
    onShown(wanted);
    try {
      const me = await api.updateMe({ show_api_history: wanted });
      onShown(me.show_api_history === true);
      onChanged();
    } catch (err) {
      onShown(!wanted);
      setError(fail(err));
    }
  };
  return (
    <label class="check-row" data-testid="apikeys-history">
      <input
        type="checkbox"
        checked={shown === true}
        disabled={shown === null}
        onChange={(e) => void change(e.currentTarget.checked)}
        data-testid="apikeys-history-toggle"
      />
      <span>
        {t('apikeys.history')}
        <span class="hint">{t('apikeys.historyHint')}</span>
      </span>
    </label>
  );
}

/** The one time a key is shown in full. */
function NewKey({ created, onDone }: { created: { name: string; key: string }; onDone: () => void }) {
  return (
    <div class="apikey-new" role="status" data-testid="apikey-new">
      <p>{t('apikeys.createdOnce', { name: created.name })}</p>
      <CopyRow label={t('apikeys.key')} value={created.key} testid="apikey-new-key" />
      <button type="button" class="btn-link" onClick={onDone} data-testid="apikey-new-done">
        {t('apikeys.saved')}
      </button>
    </div>
  );
}

function CopyRow({ label, value, testid }: { label: string; value: string; testid: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = async () => {
    const ok = await copyText(value);
    setCopied(ok ? 'yes' : 'failed');
    if (ok) setTimeout(() => setCopied(null), 1500);
  };
  return (
    <label class="field">
      <span>{label}</span>
      <span class="invite-row">
        <input readOnly value={value} class="apikey-value" onFocus={(e) => e.currentTarget.select()} data-testid={testid} />
        <button type="button" class="btn" onClick={() => void copy()} data-testid={`${testid}-copy`}>
          {copied === 'yes' ? t('invite.copied') : t('apikeys.copy')}
        </button>
      </span>
      {copied === 'failed' && <span class="hint" role="status">{t('apikeys.copyFailed')}</span>}
    </label>
  );
}
