// The model and role pickers above the composer: a button showing the choice, a menu of choices.

import { t } from '../../i18n';
import type { ModelInfo, Role } from '../../types';
import { ChevronDownIcon, EyeIcon, BulbIcon, PersonaIcon, SparkIcon } from './Icons';
import { Menu, MenuItem } from './Menu';

export function ModelBadges({ model }: { model: ModelInfo }) {
  return (
    <>
      {model.vision && (
        <span class="badge" data-testid="badge-vision"><EyeIcon size={12} />{t('picker.vision')}</span>
      )}
      {model.reasoning && (
        <span class="badge badge-reasoning" data-testid="badge-reasoning"><BulbIcon size={12} />{t('picker.reasoning')}</span>
      )}
    </>
  );
}

interface ModelProps {
  models: ModelInfo[];
  value: string;
  onChange: (id: string) => void;
}

export function ModelPicker({ models, value, onChange }: ModelProps) {
  const chosen = models.find((m) => m.id === value);
  const name = chosen ? chosen.name || chosen.id : value;
  return (
    <Menu
      label={t('picker.model')}
      align="start"
      place="up"
      panelClass="picker-pop"
      focusChecked
      testid="model-menu"
      trigger={(props) => (
        <button
          {...props}
          type="button"
          class="pill"
          aria-label={`${t('picker.model')}: ${name}`}
          title={t('picker.model')}
          data-testid="model-select"
          data-value={value}
        >
          <SparkIcon size={15} />
          <span class="pill-text">{name}</span>
          <ChevronDownIcon size={14} />
        </button>
      )}
    >
      {models.map((m) => (
        <MenuItem key={m.id} class="option" checked={m.id === value} value={m.id} testid="model-option" onSelect={() => onChange(m.id)}>
          <span class="opt-line">
            <span class="opt-name">{m.name || m.id}</span>
            <ModelBadges model={m} />
          </span>
          <span class="opt-hint">{t('picker.cost', { n: m.cost })}</span>
        </MenuItem>
      ))}
    </Menu>
  );
}

interface RoleProps {
  roles: Role[];
  value: number | undefined;
  onChange: (id: number | undefined) => void;
}

export function RolePicker({ roles, value, onChange }: RoleProps) {
  const chosen = roles.find((r) => r.id === value);
  const name = chosen ? chosen.name : t('picker.noRole');
  return (
    <Menu
      label={t('picker.role')}
      align="start"
      place="up"
      panelClass="picker-pop"
      focusChecked
      testid="role-menu"
      trigger={(props) => (
        <button
          {...props}
          type="button"
          class="pill"
          aria-label={`${t('picker.role')}: ${name}`}
          title={t('picker.role')}
          data-testid="role-select"
          data-value={value === undefined ? '' : String(value)}
        >
          <PersonaIcon size={15} />
          <span class="pill-text">{name}</span>
          <ChevronDownIcon size={14} />
        </button>
      )}
    >
      <MenuItem class="option" checked={value === undefined} value="" testid="role-option" onSelect={() => onChange(undefined)}>
        <span class="opt-name">{t('picker.noRole')}</span>
      </MenuItem>
      {roles.map((r) => (
        <MenuItem key={r.id} class="option" checked={r.id === value} value={String(r.id)} testid="role-option" onSelect={() => onChange(r.id)}>
          <span class="opt-name">{r.name}</span>
          {r.description && <span class="opt-hint">{r.description}</span>}
        </MenuItem>
      ))}
    </Menu>
  );
}
