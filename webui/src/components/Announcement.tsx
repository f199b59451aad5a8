import { useState } from 'preact/hooks';
import { t } from '../i18n';
import { CloseIcon } from './chat-ui/Icons';
import { IconButton } from './chat-ui/IconButton';

const KEY = 'chatd.announcement.dismissed';

function dismissedText(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/**
 * The operator's announcement above the chat. Closing it is remembered for that text only, so a
 * new announcement shows again.
 */
export function Announcement({ text }: { text: string }) {
  const [dismissed, setDismissed] = useState(() => dismissedText() === text);
  if (dismissed || !text.trim()) return null;

  const dismiss = () => {
    setDismissed(true);
    try {
      localStorage.setItem(KEY, text);
    } catch {
      // private mode: closed for this page only
    }
  };

  return (
    <aside class="announce" aria-label={t('announcement.label')} data-testid="announcement-banner">
      <p class="announce-text">{text}</p>
      <IconButton class="icon-btn" label={t('announcement.dismiss')} onClick={dismiss} testid="announcement-dismiss">
        <CloseIcon size={16} />
      </IconButton>
    </aside>
  );
}
