// Settings: the run-time settings (admin.settings.get/set: every value is a string, as the daemon
// stores it) grouped by topic, saving only what changed; the login methods, which chatd.conf
// decides, read-only; and sub-sections for models and costs, roles and preset questions.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { THEMES } from '../../theme';
import type { SiteInfo } from '../../types';
import { admin, type ModelRow, type PresetRow, type RoleRow } from '../api';
import { at, atDynamic } from '../i18n';
import type { Route } from '../router';
import { ErrorNote, Link, OkNote, Section, useFail, useList, wholeNumber, type RunChange } from '../ui';
import { Models } from './ModelSettings';

const SECTIONS = ['general', 'models', 'roles', 'presets'] as const;
type SectionId = (typeof SECTIONS)[number];

export function SettingsPage({ route, site }: { route: Route; site: SiteInfo | null }) {
  const section: SectionId = (SECTIONS as readonly string[]).includes(route.rest[0]) ? (route.rest[0] as SectionId) : 'general';
  return (
    <div class="page">
      <div class="page-head">
        <h1>{at('nav.settings')}</h1>
      </div>
      <nav class="subnav" aria-label={at('nav.settings')}>
        {SECTIONS.map((s) => (
          <Link
            key={s}
            href={s === 'general' ? '/admin/settings' : `/admin/settings/${s}`}
            class={s === section ? 'tab active' : 'tab'}
            aria-current={s === section ? 'page' : undefined}
            data-testid={`settings-tab-${s}`}
          >
            {at(`settings.${s}`)}
          </Link>
        ))}
      </nav>
      {section === 'general' && <GeneralSettings site={site} />}
      {section === 'models' && <Models />}
      {section === 'roles' && <Roles />}
      {section === 'presets' && <Presets />}
    </div>
  );
}

type Kind = 'text' | 'textarea' | 'lines' | 'number' | 'amount' | 'percent' | 'seconds' | 'minutes' | 'switch' | 'theme' | 'model';

const GROUPS: { id: string; fields: [string, Kind][] }[] = [
  {
    id: 'site',
    fields: [
      ['site.name', 'text'],
      ['site.tagline', 'text'],
      ['site.logo_url', 'text'],
      ['site.announcement', 'textarea'],
      ['site.default_theme', 'theme'],
      ['site.shop_url', 'text'],
    ],
  },
  {
    id: 'billing',
    fields: [
      ['billing.trial_questions', 'number'],
      ['billing.free_if_slower_than', 'seconds'],
      ['billing.currency', 'text'],
      ['billing.credit_price', 'amount'],
    ],
  },
  { id: 'referral', fields: [['referral.signup_reward', 'number'], ['referral.paid_percent', 'percent']] },
  {
    id: 'limits',
    fields: [
      ['limits.answers_in_flight', 'number'],
      ['limits.questions_per_minute', 'number'],
      ['limits.signups_per_hour', 'number'],
      ['limits.login_attempts_per_15min', 'number'],
    ],
  },
  { id: 'chat', fields: [['chat.allow_custom_system_prompt', 'switch'], ['chat.default_model', 'model']] },
  { id: 'content', fields: [['content.sensitive_words', 'lines']] },
  { id: 'keys', fields: [['keys.recheck_minutes', 'minutes']] },
];
const KNOWN = new Set(GROUPS.flatMap((g) => g.fields.map(([key]) => key)));

function GeneralSettings({ site }: { site: SiteInfo | null }) {
  const [saved, setSaved] = useState<Record<string, string> | null>(null);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [models, setModels] = useState<ModelRow[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fail = useFail();

  const load = async () => {
    const values = await admin.settings();
    setSaved(values);
    setDraft(values);
  };

  useEffect(() => {
    load().catch((err) => setError(fail(err)));
    admin.models().then((r) => setModels(r.items), () => {});
  }, []);

  if (!saved) return <ErrorNote text={error} />;

  const changed = Object.keys(draft).filter((key) => draft[key] !== saved[key]);
  // Keys the daemon knows that this form has no place for yet still get a plain field.
  const others = Object.keys(saved).filter((key) => !KNOWN.has(key)).sort();
  const groups = others.length ? [...GROUPS, { id: 'other', fields: others.map((k): [string, Kind] => [k, 'text']) }] : GROUPS;

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setMessage(null);
    const failed: Record<string, string> = {};
    let done = 0;
    for (const key of changed) {
      try {
        await admin.setSetting(key, draft[key]);
        done++;
      } catch (err) {
        failed[key] = fail(err);
      }
    }
    setErrors(failed);
    const kept = Object.fromEntries(Object.keys(failed).map((key) => [key, draft[key]]));
    try {
      await load();
      // What was refused stays in the form for correcting.
      setDraft((d) => ({ ...d, ...kept }));
    } catch (err) {
      setError(fail(err));
    }
    if (done > 0) setMessage(at('settings.saved', { n: done }));
    if (Object.keys(failed).length > 0) setError(at('settings.someFailed', { n: Object.keys(failed).length }));
    setBusy(false);
  };

  const field = (key: string, kind: Kind) => (
    <SettingField
      key={key}
      name={key}
      kind={kind}
      value={draft[key] ?? ''}
      changed={draft[key] !== saved[key]}
      error={errors[key]}
      models={models}
      onChange={(value) => setDraft((d) => ({ ...d, [key]: value }))}
    />
  );

  return (
    <form class="settings" onSubmit={save} noValidate data-testid="settings-form">
      {groups.map((g) => (
        <Section key={g.id} title={atDynamic(`group.${g.id}`, g.id)} testid={`settings-group-${g.id}`}>
          <div class="form-grid">{g.fields.map(([key, kind]) => field(key, kind))}</div>
          {g.id === 'site' && <LoginMethods site={site} />}
        </Section>
      ))}
      <div class="save-bar">
        <ErrorNote text={error} testid="settings-error" />
        <OkNote text={message} testid="settings-saved" />
        <span class="muted">{changed.length ? at('settings.unsaved', { n: changed.length }) : at('settings.noChanges')}</span>
        <button type="button" class="btn" disabled={busy || changed.length === 0} onClick={() => { setDraft(saved); setErrors({}); setError(null); setMessage(null); }} data-testid="settings-reset">
          {at('settings.reset')}
        </button>
        <button type="submit" class="btn btn-primary" disabled={busy || changed.length === 0} data-testid="settings-save">
          {busy ? at('common.working') : at('settings.save')}
        </button>
      </div>
    </form>
  );
}

interface FieldProps {
  name: string;
  kind: Kind;
  value: string;
  changed: boolean;
  error?: string;
  models: ModelRow[];
  onChange: (value: string) => void;
}

function SettingField({ name, kind, value, changed, error, models, onChange }: FieldProps) {
  const id = `setting-${name}`;
  const label = atDynamic(`set.${name}`, name);
  const hint = atDynamic(`set.${name}.hint`, '');
  const wide = kind === 'textarea' || kind === 'lines';
  const common = { id, 'data-testid': id, 'aria-invalid': error ? true : undefined };
  const onInput = (e: Event) => onChange((e.currentTarget as HTMLInputElement).value);
  let control: ComponentChildren;
  switch (kind) {
    case 'textarea':
    case 'lines':
      control = <textarea {...common} rows={kind === 'lines' ? 6 : 3} value={value} onInput={onInput} />;
      break;
    case 'number':
    case 'percent':
    case 'seconds':
    case 'minutes':
      control = (
        <span class="with-unit">
          <input {...common} type="number" min="0" max={kind === 'percent' ? 100 : undefined} step="1" inputMode="numeric" value={value} onInput={onInput} />
          {kind !== 'number' && <span class="muted">{at(`unit.${kind}`)}</span>}
        </span>
      );
      break;
    case 'amount':
      control = <input {...common} type="number" min="0" step="any" inputMode="decimal" value={value} onInput={onInput} />;
      break;
    case 'switch':
      control = (
        <span class="switch-row">
          <input {...common} type="checkbox" checked={value === 'on'} onChange={(e) => onChange(e.currentTarget.checked ? 'on' : 'off')} />
          <span>{value === 'on' ? at('common.on') : at('common.off')}</span>
        </span>
      );
      break;
    case 'theme':
      control = (
        <select {...common} value={value} onChange={onInput}>
          {THEMES.map((th) => (
            <option key={th} value={th}>{t(`theme.${th}`)}</option>
          ))}
        </select>
      );
      break;
    case 'model':
      control = (
        <select {...common} value={value} onChange={onInput}>
          <option value="">{at('settings.firstModel')}</option>
          {models.map((m) => (
            <option key={m.id} value={m.id}>{m.name || m.id}</option>
          ))}
          {value && !models.some((m) => m.id === value) && <option value={value}>{value}</option>}
        </select>
      );
      break;
    default:
      control = <input {...common} value={value} onInput={onInput} />;
  }
  return (
    <div class={`field${wide ? ' full' : ''}${changed ? ' changed' : ''}`}>
      <label for={id}>
        {label}
        {changed && <span class="dot-changed" title={at('settings.changed')} aria-label={at('settings.changed')} />}
      </label>
      {control}
      {hint && <span class="hint">{hint}</span>}
      {error && <span class="field-error" role="alert" data-testid="setting-error">{error}</span>}
    </div>
  );
}

const LOGIN_LABEL: Record<string, Parameters<typeof at>[0]> = {
  wechat_qr: 'login.wechatQr',
  wechat_code: 'login.wechatCode',
  password: 'login.password',
};

function LoginMethods({ site }: { site: SiteInfo | null }) {
  const methods = site?.login_methods ?? [];
  return (
    <div class="field full" data-testid="login-methods">
      <span>{at('login.methods')}</span>
      <div class="chips">
        {methods.length === 0 && <span class="muted">{at('login.none')}</span>}
        {methods.map((m) => (
          <span key={m} class="chip" data-method={m}>{LOGIN_LABEL[m] ? at(LOGIN_LABEL[m]) : m}</span>
        ))}
      </div>
      <span class="hint">{at('login.methodsHint')}</span>
    </div>
  );
}

function Roles() {
  const list = useList(admin.roles);
  const blank: RoleRow = { id: 0, name: '', description: '', prompt: '', sort: 0, enabled: true };
  return (
    <Section title={at('settings.roles')} testid="roles-section">
      <p class="hint">{at('roles.hint')}</p>
      <ErrorNote text={list.error} testid="roles-error" />
      <OkNote text={list.message} testid="roles-message" />
      <div class="cards-list">
        {list.items?.map((r) => <RoleEditor key={`${r.id}:${JSON.stringify(r)}`} role={r} run={list.run} />)}
        <RoleEditor key={`new:${list.items?.length ?? 0}`} role={blank} run={list.run} />
      </div>
    </Section>
  );
}

function RoleEditor({ role, run }: { role: RoleRow; run: RunChange }) {
  const [draft, setDraft] = useState({ ...role, sort: String(role.sort) });
  const isNew = role.id === 0;
  const set = (key: 'name' | 'description' | 'prompt' | 'sort') => (e: Event) =>
    setDraft({ ...draft, [key]: (e.currentTarget as HTMLInputElement).value });
  const save = async (e: Event) => {
    e.preventDefault();
    const row = {
      name: draft.name,
      description: draft.description,
      prompt: draft.prompt,
      enabled: draft.enabled,
      sort: wholeNumber(draft.sort) ?? 0,
    };
    await run(() => admin.setRole(isNew ? row : { id: role.id, ...row }), at('roles.saved', { name: draft.name }));
  };
  const remove = () => {
    if (confirm(at('roles.removeConfirm', { name: role.name }))) void run(() => admin.removeRole(role.id), at('roles.removed', { name: role.name }));
  };
  return (
    <form class={isNew ? 'item-card new' : 'item-card'} onSubmit={save} data-testid={isNew ? 'role-add-form' : 'role-row'} data-id={role.id || undefined}>
      <h3>{isNew ? at('roles.new') : `#${role.id}`}</h3>
      <div class="form-grid">
        <label class="field">
          <span>{at('roles.name')}</span>
          <input value={draft.name} maxLength={40} onInput={set('name')} data-testid="role-name" />
        </label>
        <label class="field">
          <span>{at('roles.description')}</span>
          <input value={draft.description} onInput={set('description')} data-testid="role-description" />
        </label>
        <label class="field full">
          <span>{at('roles.prompt')}</span>
          <textarea rows={3} value={draft.prompt} onInput={set('prompt')} data-testid="role-prompt" />
        </label>
        <label class="field narrow">
          <span>{at('models.sort')}</span>
          <input type="number" value={draft.sort} onInput={set('sort')} data-testid="role-sort" />
        </label>
        <label class="switch-row align-end">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => setDraft({ ...draft, enabled: e.currentTarget.checked })} data-testid="role-enabled" />
          <span>{at('models.enabled')}</span>
        </label>
      </div>
      <div class="row-actions">
        <button type="submit" class="btn btn-small btn-primary" disabled={!draft.name.trim() || !draft.prompt.trim()} data-testid="role-save">
          {isNew ? at('common.add') : at('common.save')}
        </button>
        {!isNew && (
          <button type="button" class="btn btn-small btn-danger" onClick={remove} data-testid="role-remove">{at('common.remove')}</button>
        )}
      </div>
    </form>
  );
}

function Presets() {
  const list = useList(admin.presets);
  const [text, setText] = useState('');
  const add = async (e: Event) => {
    e.preventDefault();
    if (text.trim() && (await list.run(() => admin.setPreset({ text: text.trim() }), at('presets.added')))) setText('');
  };
  return (
    <Section title={at('settings.presets')} testid="presets-section">
      <p class="hint">{at('presets.hint')}</p>
      <ErrorNote text={list.error} testid="presets-error" />
      <OkNote text={list.message} testid="presets-message" />
      <ul class="plain-list">
        {list.items?.map((p) => <PresetEditor key={`${p.id}:${p.text}:${p.sort}`} preset={p} run={list.run} />)}
      </ul>
      <form class="toolbar-row" onSubmit={add} data-testid="preset-add-form">
        <label class="field grow">
          <span>{at('presets.new')}</span>
          <input value={text} maxLength={500} onInput={(e) => setText(e.currentTarget.value)} data-testid="preset-add-text" />
        </label>
        <button type="submit" class="btn btn-primary align-end" disabled={!text.trim()} data-testid="preset-add-submit">{at('common.add')}</button>
      </form>
    </Section>
  );
}

function PresetEditor({ preset, run }: { preset: PresetRow; run: RunChange }) {
  const [text, setText] = useState(preset.text);
  const [sort, setSort] = useState(String(preset.sort));
  const save = () => run(() => admin.setPreset({ id: preset.id, text, sort: wholeNumber(sort) ?? 0 }), at('presets.saved'));
  const remove = () => {
    if (confirm(at('presets.removeConfirm', { text: preset.text }))) void run(() => admin.removePreset(preset.id), at('presets.removed'));
  };
  return (
    <li class="preset-row" data-testid="preset-row" data-id={preset.id}>
      <input class="grow" aria-label={at('presets.text')} value={text} maxLength={500} onInput={(e) => setText(e.currentTarget.value)} data-testid="preset-text" />
      <input class="cell-input short" type="number" aria-label={at('models.sort')} value={sort} onInput={(e) => setSort(e.currentTarget.value)} data-testid="preset-sort" />
      <span class="row-actions">
        <button type="button" class="btn btn-small btn-primary" onClick={() => void save()} data-testid="preset-save">{at('common.save')}</button>
        <button type="button" class="btn btn-small btn-danger" onClick={remove} data-testid="preset-remove">{at('common.remove')}</button>
      </span>
    </li>
  );
}
