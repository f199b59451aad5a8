// The empty chat: the site greets the visitor and offers the operator's preset questions.

import { t } from '../../i18n';
import type { Preset } from '../../types';
import { SparkIcon } from './Icons';

interface Props {
  siteName: string;
  logoUrl: string;
  tagline: string;
  presets: Preset[];
  disabled: boolean;
  onPreset: (text: string) => void;
}

export function Welcome({ siteName, logoUrl, tagline, presets, disabled, onPreset }: Props) {
  return (
    <div class="empty welcome" data-testid="welcome">
      <div class="welcome-mark" aria-hidden="true">
        {logoUrl ? <img src={logoUrl} alt="" /> : <SparkIcon size={28} />}
      </div>
      <p class="welcome-site">{siteName}</p>
      <h2>{t('chat.empty')}</h2>
      {tagline && <p class="hint welcome-tagline">{tagline}</p>}
      {presets.length > 0 && (
        <div class="presets" data-testid="presets">
          <p class="sr-only">{t('presets.title')}</p>
          <div class="preset-grid">
            {presets.map((p) => (
              <button key={p.id} type="button" class="preset" disabled={disabled} onClick={() => onPreset(p.text)} data-testid="preset">
                {p.text}
              </button>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}
