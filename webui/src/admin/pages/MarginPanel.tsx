// The reseller's margin (CONTRACT.md §10): what the upstream cost at the models' prices against
// what the credits used were sold for, per day and per model. Revenue is credits × the setting
// billing.credit_price, so with that price at 0 every revenue is 0 and the panel says why.

import { currentLang } from '../../i18n';
import type { DayStats, ModelUsage } from '../api';
import { BarChart, LineChart } from '../charts';
import { at } from '../i18n';
import { Link, Section, Tile } from '../ui';
import '../margins.css';

type Format = (n: number) => string;

function formatter(currency: string, options: Intl.NumberFormatOptions): Format {
  try {
    // narrowSymbol: ¥ rather than CN¥ — a site has one currency, and columns stay narrow.
    const f = new Intl.NumberFormat(currentLang(), { ...options, style: 'currency', currency, currencyDisplay: 'narrowSymbol' });
    return (n) => f.format(n);
  } catch {
    // A currency code Intl refuses (a typo in the setting): the number, then the code as typed.
    const f = new Intl.NumberFormat(currentLang(), options);
    return (n) => `${f.format(n)} ${currency}`;
  }
}

/**
 * Amounts in the site's currency. One answer costs a fraction of a cent, so amounts under 0.1 get
 * up to 4 decimals, and the few under 0.0001 two significant digits rather than a misleading 0.00.
 * `signed` puts + or − before every amount but zero (margins: the sign, not only the colour).
 */
export function moneyFormat(currency: string, signed = false): Format {
  const signDisplay = signed ? 'exceptZero' : 'auto';
  const cents = formatter(currency, { minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay });
  const small = formatter(currency, { minimumFractionDigits: 2, maximumFractionDigits: 4, signDisplay });
  const tiny = formatter(currency, { maximumSignificantDigits: 2, signDisplay });
  return (n) => {
    const size = Math.abs(n);
    if (size === 0 || size >= 0.1) return cents(n);
    return size < 0.0001 ? tiny(n) : small(n);
  };
}

/** Chart axes have ~50 px for a label: thousands and more in compact form (¥12K, ¥1.2万). */
function axisFormat(currency: string): Format {
  const money = moneyFormat(currency);
  const compact = formatter(currency, { notation: 'compact', maximumFractionDigits: 1 });
  return (n) => (Math.abs(n) >= 1000 ? compact(n) : money(n));
}

/**
 * Percentages to 0.1 %, cut toward zero rather than rounded: a cost of a few thousandths of the
 * revenue reads 99.9 %, never a 100 % that looks as if the upstream were free.
 */
function percentFormat(): Format {
  const f = new Intl.NumberFormat(currentLang(), { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
  // Via millionths, so floating-point noise (0.999 × 1000 = 998.99…) does not cut off a digit too many.
  return (share) => f.format(Math.trunc(Math.round(share * 1e6) / 1e3) / 1e3);
}

/** Margin as a share of revenue; none without revenue (a cost with nothing sold is no percentage). */
const marginShare = (cost: number, revenue: number) => (revenue > 0 ? (revenue - cost) / revenue : null);

const sum = <T,>(rows: T[], pick: (row: T) => number) => rows.reduce((n, row) => n + pick(row), 0);

interface Props {
  days: DayStats[];
  models: ModelUsage[];
  currency: string;
  /** The setting billing.credit_price: 0 means revenue cannot be known. */
  creditPrice: number;
}

export function MarginPanel({ days, models, currency, creditPrice }: Props) {
  const money = moneyFormat(currency);
  const signedMoney = moneyFormat(currency, true);
  const percent = percentFormat();
  const count = (n: number) => n.toLocaleString(currentLang());

  const cost = sum(days, (d) => d.upstream_cost);
  const revenue = sum(days, (d) => d.revenue);
  const margin = revenue - cost;
  const share = marginShare(cost, revenue);
  const questions = sum(models, (m) => m.questions);
  const credits = sum(days, (d) => d.credits);
  const labels = days.map((d) => d.date);
  const daily = days.map((d) => d.revenue - d.upstream_cost);
  const lossDays = daily.filter((m) => m < 0).length;
  const axis = axisFormat(currency);

  return (
    <section class="margins" aria-labelledby="margins-title" data-testid="margins">
      <h2 id="margins-title" class="margins-title">{at('margin.title', { n: days.length })}</h2>
      {!(creditPrice > 0) && (
        <p class="margins-hint" role="note" data-testid="margin-no-price">
          <span>{at('margin.noPrice')}</span>
          <Link href="/admin/settings" class="btn btn-small">{at('margin.openSettings')}</Link>
        </p>
      )}
      <div class="tiles">
        <Tile id="cost" label={at('margin.cost')} value={cost} shown={money(cost)}
          sub={at('margin.costSub', { i: count(sum(days, (d) => d.prompt_tokens)), o: count(sum(days, (d) => d.completion_tokens)) })} />
        <Tile id="revenue" label={at('margin.revenue')} value={revenue} shown={money(revenue)}
          sub={at('margin.revenueSub', { n: count(credits), price: money(creditPrice) })} />
        <Tile id="margin" label={at('margin.margin')} value={margin} shown={signedMoney(margin)}
          sub={share === null ? undefined : at('margin.marginSub', { p: percent(share) })}
          tone={margin < 0 ? 'danger' : margin > 0 ? 'success' : undefined} />
        {questions > 0 && (
          <Tile id="cost-per-question" label={at('margin.perQuestion')} value={cost / questions} shown={money(cost / questions)}
            sub={at('margin.perQuestionSub', { n: count(questions), r: money(revenue / questions) })} />
        )}
      </div>
      <div class="charts">
        <LineChart
          testid="chart-cost-revenue"
          title={at('margin.chartMoney')}
          summary={at('margin.chartMoneySummary', { n: days.length, cost: money(cost), revenue: money(revenue) })}
          labels={labels}
          format={axis}
          series={[
            { name: at('margin.cost'), values: days.map((d) => d.upstream_cost), tone: 'warning' },
            { name: at('margin.revenue'), values: days.map((d) => d.revenue), tone: 'success' },
          ]}
        />
        <BarChart
          testid="chart-margin"
          title={at('margin.chartMargin')}
          summary={at('margin.chartMarginSummary', { n: days.length, margin: signedMoney(margin), loss: lossDays })}
          labels={labels}
          values={daily}
          format={axis}
          toneOf={(n) => (n < 0 ? 'danger' : 'success')}
        />
      </div>
      <Section title={at('margin.byModel')}>
        <ModelTable models={models} money={money} signedMoney={signedMoney} percent={percent} count={count} />
        <p class="muted small">{at('margin.basis', { price: money(creditPrice) })}</p>
      </Section>
    </section>
  );
}

interface TableProps {
  models: ModelUsage[];
  money: Format;
  signedMoney: Format;
  percent: Format;
  count: Format;
}

/** Always a real table (scrolling sideways on a phone): its figures are compared across rows. */
function ModelTable({ models, money, signedMoney, percent, count }: TableProps) {
  if (models.length === 0) return <p class="muted" data-testid="model-margins-empty">{at('margin.none')}</p>;
  const total: ModelUsage = {
    model: at('margin.total'),
    questions: sum(models, (m) => m.questions),
    prompt_tokens: sum(models, (m) => m.prompt_tokens),
    completion_tokens: sum(models, (m) => m.completion_tokens),
    reasoning_tokens: sum(models, (m) => m.reasoning_tokens),
    upstream_cost: sum(models, (m) => m.upstream_cost),
    credits: sum(models, (m) => m.credits),
    revenue: sum(models, (m) => m.revenue),
  };
  const cells = (m: ModelUsage) => {
    const margin = m.revenue - m.upstream_cost;
    const share = marginShare(m.upstream_cost, m.revenue);
    const loss = margin < 0 ? 'loss' : undefined;
    return (
      <>
        <td class="num" data-testid="margin-questions">{count(m.questions)}</td>
        <td class="num" data-testid="margin-credits">{count(m.credits)}</td>
        <td class="num" data-testid="margin-tokens-in">{count(m.prompt_tokens)}</td>
        <td class="num" data-testid="margin-tokens-out">{count(m.completion_tokens)}</td>
        <td class="num muted" data-testid="margin-reasoning">{m.reasoning_tokens ? count(m.reasoning_tokens) : '—'}</td>
        <td class="num" data-testid="margin-cost" data-value={m.upstream_cost}>{money(m.upstream_cost)}</td>
        <td class="num" data-testid="margin-revenue" data-value={m.revenue}>{money(m.revenue)}</td>
        <td class={`num ${loss ?? ''}`} data-testid="margin-margin" data-value={margin}
          title={loss && at('margin.loss')}>{signedMoney(margin)}</td>
        <td class={`num ${loss ?? ''}`} data-testid="margin-percent" data-value={share ?? ''}>
          {share === null ? '—' : percent(share)}
        </td>
      </>
    );
  };
  return (
    <div class="table-box margin-table-box" role="region" aria-label={at('margin.byModel')} tabIndex={0}>
      <table class="adm-table margin-table" data-testid="model-margins">
        <thead>
          <tr>
            <th scope="col">{at('margin.model')}</th>
            <th scope="col" class="num">{at('margin.questions')}</th>
            <th scope="col" class="num">{at('margin.credits')}</th>
            <th scope="col" class="num">{at('margin.tokensIn')}</th>
            <th scope="col" class="num">{at('margin.tokensOut')}</th>
            <th scope="col" class="num">{at('margin.reasoning')}</th>
            <th scope="col" class="num">{at('margin.costColumn')}</th>
            <th scope="col" class="num">{at('margin.revenue')}</th>
            <th scope="col" class="num">{at('margin.margin')}</th>
            <th scope="col" class="num">{at('margin.percent')}</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={m.model} data-testid="model-margin-row" data-model={m.model} data-loss={String(m.revenue < m.upstream_cost)}>
              <th scope="row" class="model-cell">{m.model}</th>
              {cells(m)}
            </tr>
          ))}
        </tbody>
        {models.length > 1 && (
          <tfoot>
            <tr data-testid="model-margins-total">
              <th scope="row" class="model-cell">{total.model}</th>
              {cells(total)}
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}
