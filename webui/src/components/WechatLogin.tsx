// WeChat login: `auth.wechat.start` decides the way. `qr`: a login QR code to scan, polled until
// confirmed or expired. `code`: follow the official account, send it the keyword, type the 8-digit
// code it answers with. QR codes are drawn locally (see qr.ts).

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { reasonText, t, type MessageKey } from '../i18n';
import { clearInvite, savedInvite } from '../invite';
import { loadQrEncoder, qrDataUrl } from '../qr';
import type { WechatStart } from '../types';

interface Props {
  onLoggedIn: () => void;
}

interface Failure {
  reason: string;
  text: string;
}

function failureOf(err: unknown): Failure {
  const reason = err instanceof RpcError ? err.reason : 'network';
  return { reason, text: reasonText(reason, err instanceof RpcError ? err.message : undefined) };
}

/** Where the page is shown decides how the user can get at a QR code on it. */
type Device = 'wechat' | 'phone' | 'desktop';

function device(): Device {
  const ua = navigator.userAgent;
  // WeChat's desktop apps say MicroMessenger too, but there is no long-press there.
  if (/MicroMessenger/i.test(ua) && !/WindowsWechat|MacWechat/i.test(ua)) return 'wechat';
  return /Android|iPhone|iPad|iPod|Mobile|HarmonyOS/i.test(ua) ? 'phone' : 'desktop';
}

export function WechatLogin({ onLoggedIn }: Props) {
  const [start, setStart] = useState<WechatStart | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setStart(null);
    setFailure(null);
    void loadQrEncoder().catch(() => {}); // in parallel with the call; drawing reports failures
    api.wechatStart(savedInvite()).then(
      (result) => live && setStart(result),
      (err) => live && setFailure(failureOf(err)),
    );
    return () => {
      live = false;
    };
  }, [attempt]);

  const restart = () => setAttempt((n) => n + 1);

  if (failure) {
    return (
      <div class="wechat">
        <WechatError failure={failure} />
        <button type="button" class="btn btn-block" onClick={restart} data-testid="wechat-retry">
          {t('app.retry')}
        </button>
      </div>
    );
  }
  if (!start) {
    return (
      <div class="wechat" aria-busy="true">
        <div class="qr">
          <span class="qr-note">{t('wechat.loading')}</span>
        </div>
      </div>
    );
  }
  return start.mode === 'qr' ? (
    <QrLogin key={start.ticket} start={start} onRestart={restart} onLoggedIn={onLoggedIn} />
  ) : (
    <CodeLogin start={start} onLoggedIn={onLoggedIn} />
  );
}

function WechatError({ failure }: { failure: Failure }) {
  return (
    <p class="form-error" role="alert" data-testid="wechat-error" data-reason={failure.reason}>
      {failure.text}
    </p>
  );
}

/** A QR code as an <img> (long-press works on images), black on a white tile in every theme. */
function QrImage(props: { url: string; alt: string; testid: string; dimmed?: boolean; children?: ComponentChildren }) {
  const { url, alt, testid, dimmed, children } = props;
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let live = true;
    setSrc(null);
    setFailed(false);
    qrDataUrl(url).then(
      (data) => live && setSrc(data),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [url]);

  return (
    <div class={dimmed ? 'qr qr-dimmed' : 'qr'}>
      {src ? (
        <img src={src} alt={alt} data-testid={testid} data-url={url} />
      ) : (
        <span class="qr-note">{failed ? t('wechat.qrDrawFailed') : t('wechat.loading')}</span>
      )}
      {children}
    </div>
  );
}

type QrStatus = 'pending' | 'confirmed' | 'expired' | 'failed';

const STATUS_TEXT: Record<QrStatus, MessageKey> = {
  pending: 'wechat.waiting',
  confirmed: 'wechat.loggingIn',
  expired: 'wechat.expired',
  failed: 'wechat.failed',
};
const SCAN_HINT: Record<Device, MessageKey> = {
  wechat: 'wechat.scanInWechat',
  phone: 'wechat.scanPhone',
  desktop: 'wechat.scanDesktop',
};

const POLL_MS = 1500;
/** A background tab still finishes a login scanned on a phone, with fewer requests. */
const HIDDEN_POLL_MS = 5000;
const RETRY_MS = 5000;
/** Failures worth waiting out; any other stops the polling until the user starts over. */
const TRANSIENT = new Set(['network', 'too_many_requests', 'server_error']);

function QrLogin(props: {
  start: Extract<WechatStart, { mode: 'qr' }>;
  onRestart: () => void;
  onLoggedIn: () => void;
}) {
  const { start, onRestart, onLoggedIn } = props;
  const [status, setStatus] = useState<QrStatus>('pending');
  const [failure, setFailure] = useState<Failure | null>(null);

  useEffect(() => {
    let over = false; // unmounted, or this ticket has reached an end
    let polling = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const finish = (end: QrStatus) => {
      over = true;
      clearTimeout(timer);
      setStatus(end);
    };
    const schedule = (ms: number) => {
      clearTimeout(timer);
      if (!over) timer = setTimeout(poll, ms);
    };
    const pollAgain = () => schedule(document.hidden ? HIDDEN_POLL_MS : POLL_MS);

    async function poll() {
      if (over || polling) return;
      polling = true;
      try {
        const { status: next } = await api.wechatPoll(start.ticket);
        if (over) return;
        setFailure(null);
        if (next === 'confirmed') {
          finish('confirmed');
          clearInvite();
          onLoggedIn();
        } else if (next === 'expired') {
          finish('expired');
        } else {
          pollAgain();
        }
      } catch (err) {
        if (over) return;
        const failed = failureOf(err);
        if (failed.reason === 'login_expired') {
          finish('expired');
        } else if (failed.reason === 'login_pending') {
          pollAgain(); // an error-shaped "pending"
        } else if (TRANSIENT.has(failed.reason)) {
          setFailure(failed);
          schedule(RETRY_MS);
        } else {
          setFailure(failed);
          finish('failed');
        }
      } finally {
        polling = false;
      }
    }

    // Back in view (e.g. after confirming in WeChat): ask at once instead of waiting out the timer.
    const onVisibility = () => {
      if (!document.hidden) schedule(0);
    };
    document.addEventListener('visibilitychange', onVisibility);
    const expiry =
      start.expires_in > 0 ? setTimeout(() => !over && finish('expired'), start.expires_in * 1000) : undefined;
    schedule(POLL_MS);

    return () => {
      over = true;
      clearTimeout(timer);
      clearTimeout(expiry);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [start.ticket]);

  const ended = status === 'expired' || status === 'failed';
  return (
    <div class="wechat">
      <QrImage url={start.qr_url} alt={t('wechat.qrAlt')} testid="wechat-qr" dimmed={ended}>
        {ended && (
          <button type="button" class="qr-overlay" onClick={onRestart} data-testid="wechat-qr-refresh">
            {t(status === 'expired' ? 'wechat.refresh' : 'wechat.retry')}
          </button>
        )}
      </QrImage>
      <p class="wechat-hint">{t(SCAN_HINT[device()])}</p>
      <p class="wechat-status" role="status" data-testid="wechat-qr-status" data-status={status}>
        {t(STATUS_TEXT[status])}
      </p>
      {failure && <WechatError failure={failure} />}
    </div>
  );
}

/** The length of the daemon's login codes. */
const CODE_DIGITS = 8;

const CODE_STEPS: Record<Device, MessageKey> = {
  wechat: 'wechat.codeStepsInWechat',
  phone: 'wechat.codeStepsPhone',
  desktop: 'wechat.codeStepsDesktop',
};

function CodeLogin(props: { start: Extract<WechatStart, { mode: 'code' }>; onLoggedIn: () => void }) {
  const { start, onLoggedIn } = props;
  const [code, setCode] = useState('');
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);

  const keyword = start.keyword || '验证码'; // the daemon's default keyword
  const steps = t(start.account_qr_url ? CODE_STEPS[device()] : 'wechat.codeStepsNoQr');
  const [beforeKeyword, afterKeyword = ''] = steps.split('{keyword}');

  const onInput = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    // NFKC turns full-width digits from Chinese input methods into ASCII ones.
    const digits = input.value.normalize('NFKC').replace(/\D/g, '').slice(0, CODE_DIGITS);
    input.value = digits; // the state may not change (a letter typed), so fix the field itself
    setCode(digits);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    if (code.length !== CODE_DIGITS) {
      setFailure({ reason: 'format', text: t('wechat.codeInvalid') });
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      await api.wechatCode(code, savedInvite());
      clearInvite();
      onLoggedIn();
    } catch (err) {
      const failed = failureOf(err);
      // The generic text for this reason is about recharge cards.
      if (failed.reason === 'too_many_attempts') failed.text = t('error.too_many_attempts.wechat');
      setFailure(failed);
      setBusy(false);
    }
  };

  return (
    <form class="wechat" onSubmit={submit} noValidate data-testid="wechat-code-form">
      {start.account_qr_url && (
        <QrImage url={start.account_qr_url} alt={t('wechat.accountQrAlt')} testid="wechat-account-qr" />
      )}
      <p class="wechat-hint">
        {beforeKeyword}
        <strong class="wechat-keyword" data-testid="wechat-keyword">
          {keyword}
        </strong>
        {afterKeyword}
      </p>
      <label class="field">
        <span>{t('wechat.codeLabel')}</span>
        <input
          class="code-input"
          name="code"
          inputmode="numeric"
          pattern="[0-9]*"
          autocomplete="one-time-code"
          maxlength={CODE_DIGITS}
          placeholder={t('wechat.codePlaceholder')}
          value={code}
          onInput={onInput}
          aria-invalid={failure ? true : undefined}
          aria-describedby={failure ? 'wechat-code-error' : undefined}
          data-testid="wechat-code-input"
        />
      </label>
      {failure && (
        <p id="wechat-code-error" class="form-error" role="alert" data-testid="wechat-code-error" data-reason={failure.reason}>
          {failure.text}
        </p>
      )}
      <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="wechat-code-submit">
        {busy ? t('login.busy') : t('wechat.codeSubmit')}
      </button>
    </form>
  );
}
