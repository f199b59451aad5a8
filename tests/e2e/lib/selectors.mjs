// The SPA's data-testid selectors the browser tests share; files add their own on top.
export const common = {
  loginForm: '[data-testid="login-form"]',
  username: '[data-testid="login-username"]',
  password: '[data-testid="login-password"]',
  submit: '[data-testid="login-submit"]',
  switchMode: '[data-testid="login-switch-mode"]',
  balance: '[data-testid="balance"]',
  input: '[data-testid="message-input"]',
  send: '[data-testid="send"]',
  stop: '[data-testid="stop"]',
  newChat: '[data-testid="new-chat"]',
  logout: '[data-testid="logout"]',
  answers: '[data-testid="message"][data-role="assistant"]',
  questions: '[data-testid="message"][data-role="user"]',
};
