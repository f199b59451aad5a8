// Log in or sign up with a username and password. Each field says what is wrong with it, next to
// it: the daemon's rules (daemon/src/auth/auth_service.cpp) are checked here before sending, and a
// refusal that names a field is shown at that field.

import { useRef, useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { currentLang, reasonText, t, type MessageKey } from '../i18n';
import { clearInvite, savedInvite } from '../invite';

type Field = 'username' | 'password';
/** A rule broken here (kept as a key, so the text follows a language switch) or the daemon's words. */
type FieldError = { rule: MessageKey } | { refusal: string };
type FieldErrors = Partial<Record<Field, FieldError>>;

const USERNAME_MIN = 2;
const USERNAME_MAX = 32;
/** Counted in UTF-8 bytes, as the daemon counts. */
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 256;
/** ASCII is limited to letters, digits and _ - . ; other scripts (Chinese names) are fine. */
const USERNAME_ASCII_OK = /^(?:[A-Za-z0-9_.-]|[^\x00-\x7f])*$/;

function check(username: string, password: string, registering: boolean): FieldErrors {
  const errors: FieldErrors = {};
  if (!username) errors.username = { rule: 'login.usernameRequired' };
  else if (registering) {
    const length = [...username].length;
    if (length < USERNAME_MIN || length > USERNAME_MAX) errors.username = { rule: 'login.usernameLength' };
    else if (!USERNAME_ASCII_OK.test(username)) errors.username = { rule: 'login.usernameChars' };
  }
  if (!password) errors.password = { rule: 'login.passwordRequired' };
  else if (registering) {
    const bytes = new TextEncoder().encode(password).length;
    if (bytes < PASSWORD_MIN) errors.password = { rule: 'login.passwordShort' };
    else if (bytes > PASSWORD_MAX) errors.password = { rule: 'login.passwordLong' };
  }
  return errors;
}

/** The daemon's invalid_params messages name the field in English: shown next to that field. */
function refusalByField(message: string): FieldErrors | null {
  const field = /\b(username|password)\b/.exec(message)?.[1] as Field | undefined;
  return field ? { [field]: { refusal: message } } : null;
}

/** A field error in the current language; the daemon's read "中文 (english)". */
function errorText(error: FieldError): string {
  if ('rule' in error) return t(error.rule);
  const bilingual = /^(.*?)\s*\((.*)\)\s*$/.exec(error.refusal);
  if (!bilingual) return error.refusal;
  return currentLang() === 'en' ? bilingual[2] : bilingual[1];
}

export function PasswordForm({ invites, onLoggedIn }: { invites: boolean; onLoggedIn: () => void }) {
  const invite = savedInvite();
  const [mode, setMode] = useState<'login' | 'register'>(invite ? 'register' : 'login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  /** After the first attempt the fields are checked as they are typed in, so errors clear at once. */
  const [attempted, setAttempted] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  const registering = mode === 'register';

  const focusFirstInvalid = () =>
    requestAnimationFrame(() => form.current?.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus());

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const name = username.trim();
    const errors = check(name, password, registering);
    setAttempted(true);
    setFieldErrors(errors);
    setError(null);
    if (errors.username || errors.password) {
      focusFirstInvalid();
      return;
    }
    setBusy(true);
    try {
      if (registering) {
        await api.register(name, password, invite);
        clearInvite();
      } else {
        await api.login(name, password);
      }
      onLoggedIn();
    } catch (err) {
      const byField = err instanceof RpcError && err.reason === 'invalid_params' ? refusalByField(err.message) : null;
      if (byField) {
        setFieldErrors(byField);
        focusFirstInvalid();
      } else {
        setError(err instanceof RpcError ? reasonText(err.reason, err.message) : reasonText('network'));
      }
      setBusy(false);
    }
  };

  const edit = (field: Field, value: string) => {
    const next = { username, password, [field]: value };
    if (field === 'username') setUsername(value);
    else setPassword(value);
    if (attempted) setFieldErrors(check(next.username.trim(), next.password, registering));
  };

  const switchMode = () => {
    setMode(registering ? 'login' : 'register');
    setError(null);
    setFieldErrors({});
    setAttempted(false);
  };

  return (
    <form class="login-form" onSubmit={submit} noValidate ref={form} data-testid="login-form">
      <h2>{registering ? t('login.registerTitle') : t('login.title')}</h2>
      {registering && invite && invites && <p class="hint">{t('login.inviteNotice')}</p>}
      <TextField
        field="username"
        label={t('login.username')}
        hint={registering ? t('login.usernameHint') : undefined}
        error={fieldErrors.username}
        value={username}
        onInput={(v) => edit('username', v)}
        autocomplete="username"
      />
      <TextField
        field="password"
        label={t('login.password')}
        hint={registering ? t('login.passwordHint') : undefined}
        error={fieldErrors.password}
        value={password}
        onInput={(v) => edit('password', v)}
        autocomplete={registering ? 'new-password' : 'current-password'}
        secret
      />
      {error && (
        <p class="form-error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="login-submit">
        {busy ? t('login.busy') : registering ? t('login.registerSubmit') : t('login.submit')}
      </button>
      <button type="button" class="btn-link" onClick={switchMode} data-testid="login-switch-mode">
        {registering ? t('login.toLogin') : t('login.toRegister')}
      </button>
    </form>
  );
}

interface TextFieldProps {
  field: Field;
  label: string;
  hint?: string;
  error?: FieldError;
  value: string;
  onInput: (value: string) => void;
  autocomplete: string;
  secret?: boolean;
}

/** A labelled input whose hint and error are tied to it for screen readers. */
function TextField({ field, label, hint, error, value, onInput, autocomplete, secret = false }: TextFieldProps) {
  const hintId = `login-${field}-hint`;
  const errorId = `login-${field}-error`;
  // The error replaces the hint while there is one.
  const describedBy = error ? errorId : hint ? hintId : undefined;
  return (
    <div class="field">
      <label for={`login-${field}`}>{label}</label>
      <input
        id={`login-${field}`}
        name={field}
        {...(secret ? { type: 'password' as const } : { type: 'text' as const })}
        autocomplete={autocomplete}
        autocapitalize="off"
        spellcheck={false}
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        data-testid={`login-${field}`}
      />
      {error && (
        <p id={errorId} class="field-error" data-testid={errorId}>
          {errorText(error)}
        </p>
      )}
      {hint && !error && (
        <p id={hintId} class="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}
