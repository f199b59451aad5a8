// Dashboard: today's and the last 30 days' figures as tiles, then charts of questions, users,
// answer latency, card sales, online payments and the key pool's health (admin.stats,
// admin.status), then cost against revenue per day and per model (MarginPanel, admin.stats.models).

import { useEffect, useState } from 'preact/hooks';
import { admin, KEY_STATUSES, type AdminStatus, type DayStats, type KeyStatus, type ModelUsage } from '../api';
import { BarChart, Donut, LineChart, type Tone } from '../charts';
import { formatDateTime } from '../../i18n';
import { at } from '../i18n';
import { ErrorNote, Tile, useFail } from '../ui';
import { formatYuan, formatYuanShort } from '../yuan';
import { MarginPanel } from './MarginPanel';

const DAYS = 30;

const KEY_TONE: Record<KeyStatus, Tone> = { active: 'success', cooling: 'warning', invalid: 'danger', disabled: 'muted' };

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? at('dash.uptimeDays', { d, h }) : at('dash.uptimeHours', { h, m });
}

const sum = (days: DayStats[], pick: (d: DayStats) => number) => days.reduce((n, d) => n + pick(d), 0);

export function Dashboard() {
  const [days, setDays] = useState<DayStats[] | null>(null);
  const [status, setStatus] = useState<AdminStatus | null>(null);
  const [money, setMoney] = useState<{ models: ModelUsage[]; currency: string; creditPrice: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const fail = useFail();

  const load = async () => {
    setLoading(true);
    setError(null);
    try {
      const [stats, state, byModel, settings] = await Promise.all([
        admin.stats(DAYS),
        admin.status(),
        admin.modelStats(DAYS),
        admin.settings(),
      ]);
      setDays(stats.days);
      setStatus(state);
      setMoney({ models: byModel.items, currency: stats.currency, creditPrice: Number(settings['billing.credit_price']) || 0 });
    } catch (err) {
      setError(fail(err));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load();
  }, []);

  const today = days?.[days.length - 1];
  const labels = days?.map((d) => d.date) ?? [];
  const keysTotal = status ? KEY_STATUSES.reduce((n, s) => n + (status.keys[s] ?? 0), 0) : 0;

  return (
    <div class="page" aria-busy={loading}>
      <div class="page-head">
        <h1>{at('nav.dashboard')}</h1>
        <button type="button" class="btn" onClick={() => void load()} disabled={loading} data-testid="dashboard-refresh">
          {at('common.refresh')}
        </button>
      </div>
      <ErrorNote text={error} />
      {days && status && today && (
        <>
          <div class="tiles">
            <Tile id="questions-today" label={at('dash.questionsToday')} value={today.questions}
              sub={at('dash.last30', { n: sum(days, (d) => d.questions).toLocaleString() })} />
            <Tile id="api-today" label={at('dash.apiToday')} value={today.api_questions ?? 0}
              sub={at('dash.last30', { n: sum(days, (d) => d.api_questions ?? 0).toLocaleString() })} />
            <Tile id="active-today" label={at('dash.activeToday')} value={today.active_users}
              sub={at('dash.newToday', { n: today.new_users })} />
            <Tile id="users" label={at('dash.users')} value={status.users}
              sub={at('dash.new30', { n: sum(days, (d) => d.new_users) })} />
            <Tile id="conversations" label={at('dash.conversations')} value={status.conversations} />
            <Tile id="in-flight" label={at('dash.inFlight')} value={status.in_flight} />
            <Tile id="redemptions" label={at('dash.redemptions30')} value={sum(days, (d) => d.redemptions)}
              sub={at('dash.creditsSold', { n: sum(days, (d) => d.credits_sold).toLocaleString() })} />
            <Tile id="paid" label={at('dash.paid30')} value={sum(days, (d) => d.paid_cents)}
              shown={formatYuan(sum(days, (d) => d.paid_cents))}
              sub={at('dash.paidOrders', { n: sum(days, (d) => d.orders), today: formatYuan(today.paid_cents) })} />
            <Tile id="latency-today" label={at('dash.latencyToday')} value={today.first_token_p50_ms ?? '—'}
              shown={formatMs(today.first_token_p50_ms)} sub={`p95 ${formatMs(today.first_token_p95_ms)}`} />
            <Tile id="keys-active" label={at('dash.keysActive')} value={status.keys.active ?? 0}
              sub={at('dash.keysTotal', { n: keysTotal })} tone={status.keys.active ? undefined : 'danger'} />
            {status.ledger_consistent !== undefined && (
              <Tile id="ledger" label={at('dash.ledger')} value={status.ledger_consistent ? 'ok' : 'mismatch'}
                shown={status.ledger_consistent ? at('dash.ledgerOk') : at('dash.ledgerBad')}
                sub={status.ledger_checked_at ? at('dash.ledgerChecked', { when: formatDateTime(status.ledger_checked_at) }) : undefined}
                tone={status.ledger_consistent ? 'success' : 'danger'} />
            )}
          </div>
          <div class="charts">
            <BarChart
              testid="chart-questions"
              title={at('chart.questions')}
              summary={at('chart.questionsSummary', { total: sum(days, (d) => d.questions), today: today.questions })}
              labels={labels}
              values={days.map((d) => d.questions)}
            />
            <LineChart
              testid="chart-users"
              title={at('chart.users')}
              summary={at('chart.usersSummary', { fresh: sum(days, (d) => d.new_users), active: today.active_users })}
              labels={labels}
              series={[
                { name: at('chart.newUsers'), values: days.map((d) => d.new_users), tone: 'accent' },
                { name: at('chart.activeUsers'), values: days.map((d) => d.active_users), tone: 'success' },
              ]}
            />
            <LineChart
              testid="chart-latency"
              title={at('chart.latency')}
              summary={at('chart.latencySummary', { p50: formatMs(today.first_token_p50_ms), p95: formatMs(today.first_token_p95_ms) })}
              labels={labels}
              format={formatMs}
              series={[
                { name: 'p50', values: days.map((d) => d.first_token_p50_ms), tone: 'accent' },
                { name: 'p95', values: days.map((d) => d.first_token_p95_ms), tone: 'warning' },
              ]}
            />
            <BarChart
              testid="chart-sales"
              title={at('chart.sales')}
              summary={at('chart.salesSummary', {
                n: sum(days, (d) => d.credits_sold),
                cards: sum(days, (d) => d.redemptions),
                orders: sum(days, (d) => d.orders),
              })}
              labels={labels}
              values={days.map((d) => d.credits_sold)}
              tone="success"
            />
            <BarChart
              testid="chart-paid"
              title={at('chart.paid')}
              summary={at('chart.paidSummary', {
                n: sum(days, (d) => d.orders),
                total: formatYuan(sum(days, (d) => d.paid_cents)),
                today: formatYuan(today.paid_cents),
              })}
              labels={labels}
              values={days.map((d) => d.paid_cents)}
              format={formatYuanShort}
              tone="success"
            />
            <Donut
              testid="chart-keys"
              title={at('chart.keys')}
              summary={KEY_STATUSES.map((s) => `${at(`key.${s}`)} ${status.keys[s] ?? 0}`).join(', ')}
              center={String(keysTotal)}
              parts={KEY_STATUSES.map((s) => ({ name: at(`key.${s}`), value: status.keys[s] ?? 0, tone: KEY_TONE[s] }))}
            />
          </div>
          {money && <MarginPanel days={days} {...money} />}
          <p class="muted small" data-testid="dashboard-version">
            chatd {status.version} · {at('dash.uptime')} {formatUptime(status.uptime_s)}
          </p>
        </>
      )}
    </div>
  );
}
