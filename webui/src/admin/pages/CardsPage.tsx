// Recharge cards: generate a batch and download it (CSV/TXT/JSON, the formats chatctl prints), the
// batches with their counts, download or revoke a whole batch, and the cards themselves filtered
// by batch and status, page by page, with revoking of selected codes.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { download } from '../../util';
import { admin, CARD_STATUSES, type Card, type CardBatch, type GeneratedBatch } from '../api';
import { CARD_FORMATS, CARD_MIME, cardBlob, cardFile, cardFileName, type CardFormat, type CardRecord } from '../card-files';
import { at } from '../i18n';
import { Badge, ErrorNote, More, OkNote, Section, TableBox, Time, useFail, usePaged, wholeNumber } from '../ui';

const PAGE = 100;
/** All of a batch in one call, as `chatctl cards export` asks for it. */
const WHOLE_BATCH = 100_000;

export function CardsPage() {
  // Bumped after anything that changes cards, so every part shows the new state.
  const [version, setVersion] = useState(0);
  const [filterBatch, setFilterBatch] = useState('');
  const changed = () => setVersion((v) => v + 1);
  const listRef = useRef<HTMLDivElement>(null);

  const show = (batch: string) => {
    setFilterBatch(batch);
    listRef.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{at('nav.cards')}</h1>
      </div>
      <GenerateForm onGenerated={changed} />
      <Batches version={version} onChanged={changed} onShow={show} />
      <div ref={listRef}>
        <CardList version={version} batch={filterBatch} onBatch={setFilterBatch} onChanged={changed} />
      </div>
    </div>
  );
}

/** `YYYY-MM-DD` → the end of that day in this browser's time zone (what chatctl does), Unix seconds. */
function endOfDay(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  return Math.floor(new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59).getTime() / 1000);
}

function GenerateForm({ onGenerated }: { onGenerated: () => void }) {
  const [count, setCount] = useState('10');
  const [questions, setQuestions] = useState('100');
  const [days, setDays] = useState('30');
  const [batch, setBatch] = useState('');
  const [before, setBefore] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [generated, setGenerated] = useState<GeneratedBatch | null>(null);
  const fail = useFail();

  const submit = async (e: Event) => {
    e.preventDefault();
    const n = wholeNumber(count);
    const q = wholeNumber(questions);
    const d = wholeNumber(days);
    if (n === null || n < 1 || q === null || q < 1 || d === null || d < 1) {
      setError(at('cards.badNumbers'));
      return;
    }
    const redeemBefore = before ? endOfDay(before) : undefined;
    if (redeemBefore === null) {
      setError(at('cards.badDate'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setGenerated(await admin.generateCards({ count: n, questions: q, days: d, batch: batch.trim(), redeem_before: redeemBefore }));
      setBatch('');
      onGenerated();
    } catch (err) {
      setError(fail(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title={at('cards.generate')}>
      <form class="form-grid" onSubmit={submit} noValidate data-testid="cards-generate-form">
        <label class="field">
          <span>{at('cards.count')}</span>
          <input type="number" min="1" max="100000" value={count} onInput={(e) => setCount(e.currentTarget.value)} data-testid="cards-count" />
        </label>
        <label class="field">
          <span>{at('cards.questions')}</span>
          <input type="number" min="1" value={questions} onInput={(e) => setQuestions(e.currentTarget.value)} data-testid="cards-questions" />
        </label>
        <label class="field">
          <span>{at('cards.days')}</span>
          <input type="number" min="1" max="3650" value={days} onInput={(e) => setDays(e.currentTarget.value)} data-testid="cards-days" />
        </label>
        <label class="field">
          <span>{at('cards.batch')}</span>
          <input value={batch} maxLength={64} placeholder={at('cards.batchPlaceholder')} onInput={(e) => setBatch(e.currentTarget.value)} data-testid="cards-batch" />
        </label>
        <label class="field">
          <span>{at('cards.redeemBefore')}</span>
          <input type="date" value={before} onInput={(e) => setBefore(e.currentTarget.value)} data-testid="cards-redeem-before" />
        </label>
        <div class="form-actions align-end">
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="cards-generate-submit">
            {busy ? at('common.working') : at('cards.generateSubmit')}
          </button>
        </div>
        <div class="full">
          <ErrorNote text={error} testid="cards-generate-error" />
        </div>
      </form>
      {generated && <Generated batch={generated} />}
    </Section>
  );
}

function Generated({ batch }: { batch: GeneratedBatch }) {
  const records: CardRecord[] = useMemo(
    () => batch.cards.map((c) => ({ ...c, batch: batch.batch, redeem_before: batch.redeem_before ?? null })),
    [batch],
  );
  const urls = useMemo(
    () => Object.fromEntries(CARD_FORMATS.map((f) => [f, URL.createObjectURL(cardBlob(records, f))])) as Record<CardFormat, string>,
    [records],
  );
  useEffect(() => () => Object.values(urls).forEach((u) => URL.revokeObjectURL(u)), [urls]);

  return (
    <div class="generated" data-testid="cards-generated" data-batch={batch.batch} data-count={batch.cards.length}>
      <OkNote text={at('cards.generated', { n: batch.cards.length, batch: batch.batch })} />
      <div class="row-actions">
        <span class="muted">{at('cards.download')}</span>
        {CARD_FORMATS.map((f) => (
          <a key={f} class="btn btn-small" href={urls[f]} download={cardFileName(batch.batch, f)} data-testid={`cards-download-${f}`}>
            {f.toUpperCase()}
          </a>
        ))}
      </div>
      <label class="field">
        <span>{at('cards.codes')}</span>
        <textarea class="codes" rows={Math.min(8, records.length)} readOnly value={cardFile(records, 'txt')} data-testid="cards-generated-codes" />
      </label>
    </div>
  );
}

function Batches({ version, onChanged, onShow }: { version: number; onChanged: () => void; onShow: (batch: string) => void }) {
  const [batches, setBatches] = useState<CardBatch[] | null>(null);
  const [format, setFormat] = useState<CardFormat>('csv');
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const fail = useFail();

  useEffect(() => {
    admin.batches().then((r) => setBatches(r.items), (err) => setError(fail(err)));
  }, [version]);

  const downloadBatch = async (batch: string) => {
    setError(null);
    try {
      const { items } = await admin.cards({ batch, limit: WHOLE_BATCH });
      download(cardFileName(batch, format), CARD_MIME[format], cardFile(items, format));
    } catch (err) {
      setError(fail(err));
    }
  };

  const revokeBatch = async (b: CardBatch) => {
    if (!confirm(at('cards.revokeBatchConfirm', { batch: b.batch, n: b.unused }))) return;
    setError(null);
    try {
      const { revoked } = await admin.revokeCards({ batch: b.batch });
      setMessage(at('cards.revoked', { n: revoked }));
      onChanged();
    } catch (err) {
      setError(fail(err));
    }
  };

  return (
    <Section
      title={at('cards.batches')}
      actions={
        <label class="inline-field">
          <span>{at('cards.format')}</span>
          <select value={format} onChange={(e) => setFormat(e.currentTarget.value as CardFormat)} data-testid="batch-format">
            {CARD_FORMATS.map((f) => (
              <option key={f} value={f}>{f.toUpperCase()}</option>
            ))}
          </select>
        </label>
      }
    >
      <ErrorNote text={error} />
      <OkNote text={message} testid="batches-message" />
      {batches && batches.length === 0 && <p class="muted">{at('cards.noBatches')}</p>}
      {batches && batches.length > 0 && (
        <TableBox label={at('cards.batches')} testid="batches-table">
          <thead>
            <tr>
              <th>{at('cards.batch')}</th>
              <th class="num">{at('cards.count')}</th>
              <th class="num">{at('card.unused')}</th>
              <th class="num">{at('card.used')}</th>
              <th class="num">{at('card.revoked')}</th>
              <th class="num">{at('card.expired')}</th>
              <th>{at('cards.perCard')}</th>
              <th>{at('cards.redeemBy')}</th>
              <th>{at('common.created')}</th>
              <th>{at('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {batches.map((b) => (
              <tr key={b.batch} data-testid="batch-row" data-batch={b.batch}>
                <td class="wrap"><strong>{b.batch}</strong></td>
                <td class="num">{b.count}</td>
                <td class="num">{b.unused}</td>
                <td class="num">{b.used}</td>
                <td class="num">{b.revoked}</td>
                <td class="num">{b.expired ?? 0}</td>
                <td>{b.questions !== undefined ? at('cards.perCardValue', { q: b.questions, d: b.days ?? 0 }) : '—'}</td>
                <td><Time at={b.redeem_before} /></td>
                <td><Time at={b.created_at} /></td>
                <td>
                  <div class="row-actions">
                    <button type="button" class="btn btn-small" onClick={() => onShow(b.batch)} data-testid="batch-show">{at('cards.show')}</button>
                    <button type="button" class="btn btn-small" onClick={() => void downloadBatch(b.batch)} data-testid="batch-download">
                      {at('cards.downloadFormat', { f: format.toUpperCase() })}
                    </button>
                    <button type="button" class="btn btn-small btn-danger" disabled={b.unused === 0} onClick={() => void revokeBatch(b)} data-testid="batch-revoke">
                      {at('cards.revokeBatch')}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
    </Section>
  );
}

interface ListProps {
  version: number;
  batch: string;
  onBatch: (batch: string) => void;
  onChanged: () => void;
}

function CardList({ version, batch, onBatch, onChanged }: ListProps) {
  const [status, setStatus] = useState('');
  const [batchField, setBatchField] = useState(batch);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<string | null>(null);
  const list = usePaged<Card>((cursor) => admin.cards({ batch, status, cursor, limit: PAGE }));
  const { items, cursor, loading, error } = list;
  const fail = useFail();

  useEffect(() => setBatchField(batch), [batch]);
  useEffect(() => {
    setSelected(new Set());
    void list.load(null);
  }, [batch, status, version]);

  const toggle = (code: string) =>
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(code)) next.delete(code);
      else next.add(code);
      return next;
    });

  const revocable = items.filter((c) => c.status === 'unused');
  const allSelected = revocable.length > 0 && revocable.every((c) => selected.has(c.code));

  const revokeSelected = async () => {
    const codes = [...selected];
    if (codes.length === 0 || !confirm(at('cards.revokeConfirm', { n: codes.length }))) return;
    list.setError(null);
    try {
      const { revoked } = await admin.revokeCards({ codes });
      setMessage(at('cards.revoked', { n: revoked }));
      onChanged();
    } catch (err) {
      list.setError(fail(err));
    }
  };

  return (
    <Section
      title={at('cards.list')}
      actions={
        <button type="button" class="btn btn-danger" disabled={selected.size === 0} onClick={() => void revokeSelected()} data-testid="cards-revoke-selected">
          {at('cards.revokeSelected', { n: selected.size })}
        </button>
      }
    >
      <form class="toolbar-row" onSubmit={(e) => { e.preventDefault(); onBatch(batchField.trim()); }} data-testid="cards-filter">
        <label class="field grow">
          <span>{at('cards.batch')}</span>
          <input type="search" value={batchField} placeholder={at('cards.allBatches')} onInput={(e) => setBatchField(e.currentTarget.value)} data-testid="cards-filter-batch" />
        </label>
        <label class="field">
          <span>{at('cards.status')}</span>
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)} data-testid="cards-filter-status">
            <option value="">{at('cards.allStatuses')}</option>
            {CARD_STATUSES.map((s) => (
              <option key={s} value={s}>{at(`card.${s}`)}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn align-end" data-testid="cards-filter-submit">{at('common.search')}</button>
      </form>
      <ErrorNote text={error} />
      <OkNote text={message} testid="cards-message" />
      <TableBox label={at('cards.list')} testid="cards-table">
        <thead>
          <tr>
            <th class="check">
              <input
                type="checkbox"
                aria-label={at('cards.selectAll')}
                checked={allSelected}
                disabled={revocable.length === 0}
                onChange={() => setSelected(allSelected ? new Set() : new Set(revocable.map((c) => c.code)))}
                data-testid="cards-select-all"
              />
            </th>
            <th>{at('cards.code')}</th>
            <th>{at('cards.batch')}</th>
            <th>{at('cards.perCard')}</th>
            <th>{at('cards.status')}</th>
            <th>{at('cards.redeemedBy')}</th>
            <th>{at('cards.redeemedAt')}</th>
            <th>{at('common.created')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => (
            <tr key={c.code} data-testid="card-row" data-code={c.code} data-status={c.status}>
              <td class="check">
                <input
                  type="checkbox"
                  aria-label={at('cards.select', { code: c.code })}
                  checked={selected.has(c.code)}
                  disabled={c.status !== 'unused'}
                  onChange={() => toggle(c.code)}
                  data-testid="card-select"
                />
              </td>
              <td><code>{c.code}</code></td>
              <td class="wrap">{c.batch}</td>
              <td>{at('cards.perCardValue', { q: c.questions, d: c.days })}</td>
              <td><Badge kind={c.status} testid="card-status">{at(`card.${c.status}`)}</Badge></td>
              <td class="num">{c.redeemed_by ?? ''}</td>
              <td><Time at={c.redeemed_at} /></td>
              <td><Time at={c.created_at} /></td>
            </tr>
          ))}
        </tbody>
      </TableBox>
      {!loading && items.length === 0 && !error && <p class="muted">{at('common.nothing')}</p>}
      <More cursor={cursor} loading={loading} onMore={() => void list.load(cursor)} testid="cards-more" />
    </Section>
  );
}
