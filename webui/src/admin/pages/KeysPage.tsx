// Upstream keys: the pool with health and usage (keys only ever appear masked), bulk add, and per
// key test, enable/disable, balance and remove; "test all invalid" re-verifies evicted keys.

import { useEffect, useState } from 'preact/hooks';
import { admin, type KeyBalance, type KeyTestResult, type Provider, type UpstreamKey } from '../api';
import { at } from '../i18n';
import { Badge, ErrorNote, OkNote, Section, TableBox, Time, useFail } from '../ui';

export function KeysPage() {
  const [keys, setKeys] = useState<UpstreamKey[] | null>(null);
  const [balances, setBalances] = useState<Record<number, KeyBalance>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const fail = useFail();

  const load = async () => {
    try {
      setKeys((await admin.keys()).items);
    } catch (err) {
      setError(fail(err));
    }
  };

  useEffect(() => {
    void load();
  }, []);

  /** Runs one action at a time, with its outcome in the message line, then refreshes the list. */
  const act = async (what: string, run: () => Promise<string | null>) => {
    setBusy(what);
    setError(null);
    setMessage(null);
    try {
      setMessage(await run());
    } catch (err) {
      setError(fail(err));
    } finally {
      setBusy(null);
      await load();
    }
  };

  const testResult = (r: KeyTestResult) =>
    r.ok ? at('keys.testOk', { id: r.id }) : at('keys.testFailed', { id: r.id, reason: r.reason || r.status });

  const test = (k: UpstreamKey) => act(`test-${k.id}`, async () => (await admin.testKeys(k.id)).items.map(testResult).join('; '));

  const testInvalid = () =>
    act('test-invalid', async () => {
      const { items } = await admin.testKeys();
      if (items.length === 0) return at('keys.noInvalid');
      const back = items.filter((r) => r.ok).length;
      return at('keys.testedInvalid', { n: items.length, ok: back });
    });

  const toggle = (k: UpstreamKey) =>
    act(`toggle-${k.id}`, async () => {
      if (k.status === 'disabled') {
        await admin.enableKey(k.id);
        return at('keys.enabled', { id: k.id });
      }
      await admin.disableKey(k.id);
      return at('keys.disabled', { id: k.id });
    });

  const remove = (k: UpstreamKey) => {
    if (!confirm(at('keys.removeConfirm', { key: k.masked, id: k.id }))) return;
    void act(`remove-${k.id}`, async () => {
      await admin.removeKey(k.id);
      return at('keys.removed', { id: k.id });
    });
  };

  const balance = (k: UpstreamKey) =>
    act(`balance-${k.id}`, async () => {
      const [b] = (await admin.keyBalance(k.id)).items;
      if (b) setBalances((old) => ({ ...old, [k.id]: b }));
      return null;
    });

  return (
    <div class="page">
      <div class="page-head">
        <h1>{at('nav.keys')}</h1>
        <button type="button" class="btn" disabled={busy !== null} onClick={() => void testInvalid()} data-testid="keys-test-invalid">
          {busy === 'test-invalid' ? at('common.working') : at('keys.testInvalid')}
        </button>
      </div>
      <ErrorNote text={error} testid="keys-error" />
      <OkNote text={message} testid="keys-message" />
      <Section title={at('keys.pool')}>
        {keys && keys.length === 0 && <p class="muted" data-testid="keys-empty">{at('keys.none')}</p>}
        {keys && keys.length > 0 && (
          <TableBox label={at('keys.pool')} testid="keys-table">
            <thead>
              <tr>
                <th class="num">ID</th>
                <th>{at('keys.key')}</th>
                <th>{at('keys.status')}</th>
                <th>{at('keys.usage')}</th>
                <th>{at('keys.balance')}</th>
                <th>{at('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id} data-testid="key-row" data-id={k.id} data-status={k.status}>
                  <td class="num">{k.id}</td>
                  <td class="wrap key-cell">
                    <code data-testid="key-masked">{k.masked}</code>
                    <span class="muted small">{k.provider} · {k.base_url || at('keys.defaultUrl')}</span>
                    {k.models.length > 0 && <span class="muted small">{k.models.join(', ')}</span>}
                    {k.note && <span class="small">{k.note}</span>}
                  </td>
                  <td class="wrap status-cell">
                    <Badge kind={k.status} testid="key-status">{at(`key.${k.status}`)}</Badge>
                    {k.reason && <span class="small" data-testid="key-reason">{k.reason}</span>}
                    {k.status === 'cooling' && k.cooldown_until && (
                      <span class="muted small">{at('keys.coolingUntil')} <Time at={k.cooldown_until} /></span>
                    )}
                    {k.last_error && k.last_error !== k.reason && <span class="muted small" title={k.last_error}>{k.last_error}</span>}
                  </td>
                  <td class="usage-cell" data-testid="key-usage" data-requests={k.requests} data-failures={k.failures}>
                    <span>{at('keys.requestsN', { n: k.requests.toLocaleString(), f: k.failures.toLocaleString() })}</span>
                    <span class="muted small" title={at('keys.tokensInOut')}>
                      {at('keys.tokensN', { i: k.tokens_in.toLocaleString(), o: k.tokens_out.toLocaleString() })}
                    </span>
                    <span class="muted small">{at('keys.lastUsed')} <Time at={k.last_used_at} /></span>
                  </td>
                  <td class="wrap balance-cell" data-testid="key-balance-result"><BalanceText b={balances[k.id]} /></td>
                  <td>
                    <div class="row-actions grid-actions">
                      <button type="button" class="btn btn-small" disabled={busy !== null} onClick={() => void test(k)} data-testid="key-test">
                        {at('keys.test')}
                      </button>
                      <button
                        type="button"
                        class="btn btn-small"
                        disabled={busy !== null}
                        onClick={() => void toggle(k)}
                        data-testid={k.status === 'disabled' ? 'key-enable' : 'key-disable'}
                      >
                        {k.status === 'disabled' ? at('keys.enable') : at('keys.disable')}
                      </button>
                      <button type="button" class="btn btn-small" disabled={busy !== null} onClick={() => void balance(k)} data-testid="key-balance">
                        {at('keys.balance')}
                      </button>
                      <button type="button" class="btn btn-small btn-danger" disabled={busy !== null} onClick={() => remove(k)} data-testid="key-remove">
                        {at('common.remove')}
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </TableBox>
        )}
      </Section>
      <AddKeys onAdded={load} />
    </div>
  );
}

function BalanceText({ b }: { b: KeyBalance | undefined }) {
  if (!b) return <span class="muted">—</span>;
  if (b.balance !== undefined) return <span>{b.balance.toLocaleString()} {b.currency ?? ''}</span>;
  return <span class="muted small" title={b.error}>{at('keys.balanceUnknown')}{b.error ? `: ${b.error}` : ''}</span>;
}

function AddKeys({ onAdded }: { onAdded: () => Promise<void> }) {
  const [text, setText] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const [models, setModels] = useState('');
  const [note, setNote] = useState('');
  const [provider, setProvider] = useState<string>('openai');
  const [providers, setProviders] = useState<Provider[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const fail = useFail();

  useEffect(() => {
    admin.providers().then(({ items }) => setProviders(items), fail);
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const keys = text.split('\n').map((line) => line.trim()).filter(Boolean);
    if (keys.length === 0) {
      setError(at('keys.addNone'));
      return;
    }
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const { ids } = await admin.addKeys({
        keys,
        base_url: baseUrl.trim(),
        models: models.split(/[,\s]+/).filter(Boolean),
        note: note.trim(),
        provider,
      });
      // The keys leave the page as soon as the daemon has them.
      setText('');
      setResult(at('keys.added', { n: ids.length, ids: ids.join(', ') }));
      await onAdded();
    } catch (err) {
      setError(fail(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title={at('keys.add')}>
      <form class="form-grid" onSubmit={submit} noValidate data-testid="keys-add-form">
        <label class="field full">
          <span>{at('keys.addKeys')}</span>
          <textarea
            rows={4}
            value={text}
            spellcheck={false}
            autocomplete="off"
            placeholder="sk-…"
            onInput={(e) => setText(e.currentTarget.value)}
            data-testid="keys-add-text"
          />
        </label>
        <label class="field">
          <span>{at('keys.baseUrl')}</span>
          <input type="url" value={baseUrl} placeholder={providers.find((p) => p.id === provider)?.base_url ?? 'https://api.openai.com/v1'} onInput={(e) => setBaseUrl(e.currentTarget.value)} data-testid="keys-add-base-url" />
        </label>
        <label class="field">
          <span>{at('keys.provider')}</span>
          <select value={provider} onChange={(e) => setProvider(e.currentTarget.value)} data-testid="keys-add-provider">
            {providers.map((p) => (
              <option key={p.id} value={p.id}>{p.name}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{at('keys.models')}</span>
          <input value={models} placeholder="gpt-4o-mini, deepseek-chat" onInput={(e) => setModels(e.currentTarget.value)} data-testid="keys-add-models" />
        </label>
        <label class="field">
          <span>{at('keys.note')}</span>
          <input value={note} onInput={(e) => setNote(e.currentTarget.value)} data-testid="keys-add-note" />
        </label>
        <p class="hint full">{at('keys.addHint')}</p>
        <div class="form-actions full">
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="keys-add-submit">{at('keys.addSubmit')}</button>
        </div>
        <div class="full">
          <ErrorNote text={error} testid="keys-add-error" />
          <OkNote text={result} testid="keys-add-result" />
        </div>
      </form>
    </Section>
  );
}
