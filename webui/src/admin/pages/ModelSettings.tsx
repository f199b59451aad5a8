// Settings › models and costs (admin.models.list/set/remove): one table row a model, edited in
// place. Under its id, what the table has no column for (vision, the upstream's prices) in short,
// and a button that opens those and the request options in a panel under the row.

import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { admin, STREAM_USAGE, type ModelRow, type StreamUsage } from '../api';
import { at, type AdminKey } from '../i18n';
import { ErrorNote, OkNote, Section, TableBox, useList, wholeNumber, type RunChange } from '../ui';
import '../model-settings.css';

const WHOLE = ['cost', 'max_messages', 'max_context_chars', 'sort', 'max_tokens', 'image_cost'] as const;
const PRICES = ['price_in', 'price_out'] as const;
type Whole = (typeof WHOLE)[number];
type Price = (typeof PRICES)[number];
type Typed = 'name' | 'upstream_model' | Whole | Price;
type ModelDraft = Record<Typed, string> & { enabled: boolean; vision: boolean; reasoning: boolean; stream_usage: StreamUsage };

/** Columns of the table, for the panel under a row to span them all. */
const COLUMNS = 9;

// A daemon from before reasoning models lacks the request options: their defaults stand in.
const modelDraft = (m: ModelRow): ModelDraft => ({
  name: m.name,
  upstream_model: m.upstream_model,
  cost: String(m.cost),
  max_messages: String(m.max_messages),
  max_context_chars: String(m.max_context_chars),
  sort: String(m.sort),
  max_tokens: String(m.max_tokens ?? 0),
  image_cost: String(m.image_cost ?? 0),
  price_in: String(m.price_in ?? 0),
  price_out: String(m.price_out ?? 0),
  enabled: m.enabled,
  vision: m.vision ?? false,
  reasoning: m.reasoning ?? false,
  stream_usage: m.stream_usage ?? 'auto',
});

/** A price typed into a field: a non-negative decimal; null when it is empty or not one. */
function decimal(text: string): number | null {
  const trimmed = text.trim();
  return /^(\d+(\.\d*)?|\.\d+)$/.test(trimmed) ? Number(trimmed) : null;
}

/** Numbers typed into a row: empty or malformed fields are left out, so the daemon keeps its value. */
function numbersOf<K extends string>(draft: Record<K, string>, keys: readonly K[], parse: (text: string) => number | null): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const key of keys) {
    const n = parse(draft[key]);
    if (n !== null) out[key] = n;
  }
  return out;
}

const price = (n: number) => n.toLocaleString(undefined, { maximumFractionDigits: 4 });

export function Models() {
  const list = useList(admin.models);
  const [newId, setNewId] = useState('');
  const [newCost, setNewCost] = useState('1');
  // Prices are in the site's currency (a general setting).
  const [currency, setCurrency] = useState('CNY');
  useEffect(() => {
    admin.settings().then((values) => values['billing.currency'] && setCurrency(values['billing.currency']), () => {});
  }, []);

  const add = async (e: Event) => {
    e.preventDefault();
    const id = newId.trim();
    if (!id) return;
    const cost = wholeNumber(newCost);
    if (await list.run(() => admin.setModel({ id, ...(cost !== null ? { cost } : {}) }), at('models.saved', { id }))) setNewId('');
  };

  return (
    <Section title={at('settings.models')} testid="models-section">
      <p class="hint">{at('models.hint')}</p>
      <ErrorNote text={list.error} testid="models-error" />
      <OkNote text={list.message} testid="models-message" />
      {list.items && (
        <TableBox label={at('settings.models')} testid="models-table">
          <thead>
            <tr>
              <th>ID</th>
              <th>{at('models.name')}</th>
              <th>{at('models.upstream')}</th>
              <th>{at('models.cost')}</th>
              <th>{at('models.maxMessages')}</th>
              <th>{at('models.maxChars')}</th>
              <th>{at('models.sort')}</th>
              <th>{at('models.enabled')}</th>
              <th>{at('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((m) => (
              <ModelEditor key={`${m.id}:${JSON.stringify(m)}`} model={m} currency={currency} run={list.run} />
            ))}
          </tbody>
        </TableBox>
      )}
      <form class="toolbar-row" onSubmit={add} data-testid="model-add-form">
        <label class="field">
          <span>{at('models.newId')}</span>
          <input value={newId} placeholder="gpt-4o-mini" onInput={(e) => setNewId(e.currentTarget.value)} data-testid="model-add-id" />
        </label>
        <label class="field narrow">
          <span>{at('models.cost')}</span>
          <input type="number" min="0" value={newCost} onInput={(e) => setNewCost(e.currentTarget.value)} data-testid="model-add-cost" />
        </label>
        <button type="submit" class="btn btn-primary align-end" disabled={!newId.trim()} data-testid="model-add-submit">{at('common.add')}</button>
      </form>
    </Section>
  );
}

function ModelEditor({ model, currency, run }: { model: ModelRow; currency: string; run: RunChange }) {
  const [draft, setDraft] = useState(modelDraft(model));
  const [open, setOpen] = useState(false);
  const set = (key: Typed) => (e: Event) => setDraft({ ...draft, [key]: (e.currentTarget as HTMLInputElement).value });
  const save = () =>
    run(
      () =>
        admin.setModel({
          id: model.id,
          name: draft.name,
          upstream_model: draft.upstream_model,
          enabled: draft.enabled,
          vision: draft.vision,
          reasoning: draft.reasoning,
          stream_usage: draft.stream_usage,
          ...numbersOf(draft, WHOLE, wholeNumber),
          ...numbersOf(draft, PRICES, decimal),
        }),
      at('models.saved', { id: model.id }),
    );
  const remove = () => {
    if (confirm(at('models.removeConfirm', { id: model.id }))) void run(() => admin.removeModel(model.id), at('models.removed', { id: model.id }));
  };
  const cell = (key: Typed, numeric = false, width = '') => (
    <td>
      <input class={`cell-input ${width}`} inputMode={numeric ? 'numeric' : undefined} aria-label={`${model.id} ${key}`} value={draft[key]} onInput={set(key)} data-testid={`model-${key}`} />
    </td>
  );

  const panelId = `model-options-${model.id}`;
  // The summary shows what is saved; the panel, what is being typed.
  const priceIn = model.price_in ?? 0;
  const priceOut = model.price_out ?? 0;
  const perMillion = at('models.perMillion', { currency });
  const field = (key: Whole | Price, label: AdminKey, unit: string, hint?: AdminKey) => (
    <div class="field">
      <label for={`${panelId}-${key}`}>{at(label)}</label>
      <span class="with-unit">
        <input
          id={`${panelId}-${key}`}
          type="number"
          min="0"
          step={key.startsWith('price') ? 'any' : '1'}
          inputMode={key.startsWith('price') ? 'decimal' : 'numeric'}
          value={draft[key]}
          onInput={set(key)}
          data-testid={`model-${key}`}
        />
        {unit && <span class="muted">{unit}</span>}
      </span>
      {hint && <span class="hint">{at(hint)}</span>}
    </div>
  );

  return (
    <Fragment>
      <tr data-testid="model-row" data-id={model.id}>
        <td class="model-id-cell">
          <code>{model.id}</code>
          <span class="model-facts">
            {model.vision && <span class="chip" data-testid="model-vision-badge">{at('models.vision')}</span>}
            {model.reasoning && <span class="chip" data-testid="model-reasoning-badge">{at('models.reasoning')}</span>}
            <span
              class={priceIn === 0 && priceOut === 0 ? 'muted' : undefined}
              title={at('models.pricesTitle', { in: price(priceIn), out: price(priceOut), unit: perMillion })}
              data-testid="model-prices"
              data-price-in={priceIn}
              data-price-out={priceOut}
            >
              {priceIn === 0 && priceOut === 0
                ? at('models.noPrice')
                : at('models.pricesShort', { in: price(priceIn), out: price(priceOut), currency })}
            </span>
          </span>
          <button
            type="button"
            class="btn-link model-options-toggle"
            aria-expanded={open}
            aria-controls={open ? panelId : undefined}
            onClick={() => setOpen(!open)}
            data-testid="model-options"
          >
            {at('models.options')}
            <span class="chevron" aria-hidden="true" />
          </button>
        </td>
        {cell('name')}
        {cell('upstream_model')}
        {cell('cost', true, 'short')}
        {cell('max_messages', true, 'short')}
        {cell('max_context_chars', true, 'medium')}
        {cell('sort', true, 'short')}
        <td class="check">
          <input type="checkbox" aria-label={`${model.id} ${at('models.enabled')}`} checked={draft.enabled} onChange={(e) => setDraft({ ...draft, enabled: e.currentTarget.checked })} data-testid="model-enabled" />
        </td>
        <td>
          <div class="row-actions">
            <button type="button" class="btn btn-small btn-primary" onClick={() => void save()} data-testid="model-save">{at('common.save')}</button>
            <button type="button" class="btn btn-small btn-danger" onClick={remove} data-testid="model-remove">{at('common.remove')}</button>
          </div>
        </td>
      </tr>
      {open && (
        <tr class="model-options-row" data-testid="model-options-row" data-id={model.id}>
          <td colSpan={COLUMNS} class="model-options-cell">
            <div id={panelId} class="model-options" role="group" aria-label={at('models.optionsOf', { id: model.id })}>
              <label class="switch-row">
                <input type="checkbox" checked={draft.vision} onChange={(e) => setDraft({ ...draft, vision: e.currentTarget.checked })} data-testid="model-vision" />
                <span>{at('models.visionLabel')}</span>
              </label>
              <label class="switch-row">
                <input type="checkbox" checked={draft.reasoning} onChange={(e) => setDraft({ ...draft, reasoning: e.currentTarget.checked })} data-testid="model-reasoning" />
                <span>{at('models.reasoningLabel')}</span>
              </label>
              <div class="form-grid">
                {field('price_in', 'models.priceIn', perMillion)}
                {field('price_out', 'models.priceOut', perMillion)}
                {field('image_cost', 'models.imageCost', at('models.perImage'), 'models.imageCostHint')}
                {field('max_tokens', 'models.maxTokens', '', 'models.maxTokensHint')}
                <div class="field full">
                  <label for={`${panelId}-stream_usage`}>{at('models.streamUsage')}</label>
                  <select
                    id={`${panelId}-stream_usage`}
                    value={draft.stream_usage}
                    onChange={(e) => setDraft({ ...draft, stream_usage: e.currentTarget.value as StreamUsage })}
                    data-testid="model-stream_usage"
                  >
                    {STREAM_USAGE.map((v) => (
                      <option key={v} value={v}>{at(`models.streamUsage.${v}`)}</option>
                    ))}
                  </select>
                  <span class="hint">{at('models.streamUsageHint')}</span>
                </div>
              </div>
              <p class="hint">{at('models.optionsSave')}</p>
            </div>
          </td>
        </tr>
      )}
    </Fragment>
  );
}
