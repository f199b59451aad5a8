// Plans: what visitors can buy online (admin.plans.list/set/remove). A table of the plans with
// "on sale" switched in place, and one form below it that adds a plan or edits the one picked.
// Prices are typed in yuan and sent as fen; which channels are configured is shown on top,
// because a plan without a channel cannot be bought and chatd.conf is where that is fixed.

import { useEffect, useRef, useState } from 'preact/hooks';
import { admin, type Plan } from '../api';
import { at } from '../i18n';
import { channelName } from '../pay-labels';
import { Badge, ErrorNote, OkNote, Section, TableBox, useFail, useList, wholeNumber, type RunChange } from '../ui';
import { formatYuan, parseYuan, yuanField } from '../yuan';
import '../payments.css';

export function PlansPage() {
  const list = useList(admin.plans);
  const [editingId, setEditingId] = useState<number | null>(null);
  // Read from the list, so a change made in the table (on sale or not) reaches an open form.
  const editing = list.items?.find((p) => p.id === editingId) ?? null;
  const formRef = useRef<HTMLDivElement>(null);

  const edit = (plan: Plan) => {
    setEditingId(plan.id);
    formRef.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  };

  const toggle = (plan: Plan) =>
    list.run(
      () => admin.setPlan({ id: plan.id, enabled: !plan.enabled }),
      at(plan.enabled ? 'plans.disabledNow' : 'plans.enabledNow', { name: plan.name }),
    );

  const remove = (plan: Plan) => {
    if (!confirm(at('plans.removeConfirm', { name: plan.name }))) return;
    if (editingId === plan.id) setEditingId(null);
    void list.run(() => admin.removePlan(plan.id), at('plans.removed', { name: plan.name }));
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{at('nav.plans')}</h1>
      </div>
      <p class="hint">{at('plans.hint')}</p>
      <Channels />
      <Section title={at('plans.list')}>
        <ErrorNote text={list.error} testid="plans-error" />
        <OkNote text={list.message} testid="plans-message" />
        {list.items && list.items.length === 0 && <p class="muted" data-testid="plans-empty">{at('plans.none')}</p>}
        {list.items && list.items.length > 0 && (
          <TableBox label={at('plans.list')} testid="plans-table">
            <thead>
              <tr>
                <th>{at('plans.name')}</th>
                <th class="num">{at('plans.price')}</th>
                <th class="num">{at('plans.questions')}</th>
                <th class="num">{at('plans.days')}</th>
                <th class="num">{at('plans.sort')}</th>
                <th>{at('plans.status')}</th>
                <th>{at('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((p) => (
                <tr key={p.id} data-testid="plan-row" data-id={p.id} data-enabled={String(p.enabled)}>
                  <td class="wrap">
                    <strong data-testid="plan-name">{p.name}</strong> <span class="muted">#{p.id}</span>
                  </td>
                  <td class="num" data-testid="plan-price" data-cents={p.price_cents}>{formatYuan(p.price_cents)}</td>
                  <td class="num">{p.questions.toLocaleString()}</td>
                  <td class="num">{p.days}</td>
                  <td class="num">{p.sort}</td>
                  <td>
                    <Badge kind={p.enabled ? 'active' : 'disabled'} testid="plan-status">
                      {at(p.enabled ? 'plans.onSale' : 'plans.offSale')}
                    </Badge>
                  </td>
                  <td>
                    <div class="row-actions">
                      <button type="button" class="btn btn-small" onClick={() => edit(p)} data-testid="plan-edit">
                        {at('plans.edit')}
                      </button>
                      <button type="button" class="btn btn-small" onClick={() => void toggle(p)}
                        data-testid={p.enabled ? 'plan-disable' : 'plan-enable'}>
                        {at(p.enabled ? 'plans.disable' : 'plans.enable')}
                      </button>
                      <button type="button" class="btn btn-small btn-danger" onClick={() => remove(p)} data-testid="plan-remove">
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
      <div ref={formRef} class="scroll-target">
        {/* A new key per plan (and per save) starts the form afresh from what it edits. */}
        <PlanForm key={editing ? `edit:${editing.id}:${JSON.stringify(editing)}` : `new:${list.items?.length ?? 0}`}
          plan={editing} run={list.run} onDone={() => setEditingId(null)} />
      </div>
    </div>
  );
}

/** The channels chatd.conf offers (the visitors' pay.plans): none means nothing can be sold. */
function Channels() {
  const [channels, setChannels] = useState<string[] | null>(null);
  const fail = useFail();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    admin.payChannels().then((r) => setChannels(r.channels), (err) => setError(fail(err)));
  }, []);
  if (error) return <ErrorNote text={error} />;
  if (!channels) return null;
  if (channels.length === 0) {
    return <p class="notice-warning" role="note" data-testid="plans-no-channels">{at('plans.noChannels')}</p>;
  }
  const names = channels.map(channelName).join(at('common.listSeparator'));
  return <p class="muted" data-testid="plans-channels" data-channels={channels.join(',')}>{at('plans.channels', { list: names })}</p>;
}

interface FormProps {
  /** The plan being edited; null adds a new one. */
  plan: Plan | null;
  run: RunChange;
  onDone: () => void;
}

function PlanForm({ plan, run, onDone }: FormProps) {
  const [name, setName] = useState(plan?.name ?? '');
  const [price, setPrice] = useState(plan ? yuanField(plan.price_cents) : '');
  const [questions, setQuestions] = useState(plan ? String(plan.questions) : '');
  const [days, setDays] = useState(plan ? String(plan.days) : '30');
  const [sort, setSort] = useState(plan ? String(plan.sort) : '0');
  const [enabled, setEnabled] = useState(plan?.enabled ?? true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const cents = parseYuan(price);
    const q = wholeNumber(questions);
    const d = wholeNumber(days);
    const order = wholeNumber(sort);
    if (!name.trim()) return setError(at('plans.badName'));
    if (cents === null) return setError(at('plans.badPrice'));
    if (q === null || q < 1 || d === null || d < 1) return setError(at('plans.badNumbers'));
    if (order === null) return setError(at('plans.badSort'));
    setError(null);
    setBusy(true);
    const fields = { name: name.trim(), price_cents: cents, questions: q, days: d, sort: order, enabled };
    const done = at(plan ? 'plans.saved' : 'plans.added', { name: fields.name });
    const ok = await run(() => admin.setPlan(plan ? { id: plan.id, ...fields } : fields), done);
    setBusy(false);
    if (ok) onDone();
  };

  return (
    <Section title={plan ? at('plans.editing', { id: plan.id }) : at('plans.new')} testid="plan-form-section">
      <form class="form-grid" onSubmit={submit} noValidate data-testid="plan-form" data-id={plan?.id}>
        <label class="field">
          <span>{at('plans.name')}</span>
          <input value={name} maxLength={64} onInput={(e) => setName(e.currentTarget.value)} data-testid="plan-form-name" />
        </label>
        <label class="field">
          <span>{at('plans.priceYuan')}</span>
          <input inputMode="decimal" value={price} placeholder="9.90" onInput={(e) => setPrice(e.currentTarget.value)}
            data-testid="plan-form-price" />
        </label>
        <label class="field">
          <span>{at('plans.questions')}</span>
          <input type="number" min="1" step="1" inputMode="numeric" value={questions}
            onInput={(e) => setQuestions(e.currentTarget.value)} data-testid="plan-form-questions" />
        </label>
        <label class="field">
          <span>{at('plans.days')}</span>
          <input type="number" min="1" step="1" inputMode="numeric" value={days}
            onInput={(e) => setDays(e.currentTarget.value)} data-testid="plan-form-days" />
        </label>
        <label class="field">
          <span>{at('plans.sort')}</span>
          <input type="number" step="1" value={sort} title={at('plans.sortHint')}
            onInput={(e) => setSort(e.currentTarget.value)} data-testid="plan-form-sort" />
        </label>
        <label class="switch-row align-end">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} data-testid="plan-form-enabled" />
          <span>{at('plans.onSaleLabel')}</span>
        </label>
        <div class="form-actions full">
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="plan-form-submit">
            {busy ? at('common.working') : plan ? at('common.save') : at('plans.add')}
          </button>
          {plan && (
            <button type="button" class="btn" onClick={onDone} data-testid="plan-form-cancel">{at('plans.cancel')}</button>
          )}
        </div>
        <div class="full">
          <ErrorNote text={error} testid="plan-form-error" />
        </div>
      </form>
    </Section>
  );
}
