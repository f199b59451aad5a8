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

// The operator's console (/admin).
export const admin = {
  loginForm: '[data-testid="admin-login-form"]',
  username: '[data-testid="admin-login-username"]',
  password: '[data-testid="admin-login-password"]',
  submit: '[data-testid="admin-login-submit"]',
  loginError: '[data-testid="admin-login-error"]',
  nav: '[data-testid="admin-nav"]',
  navLink: (page) => `[data-testid="admin-nav-${page}"]`,
  menuToggle: '[data-testid="admin-menu-toggle"]',
  page: (page) => `[data-testid="admin-page"][data-page="${page}"]`,
  logout: '[data-testid="admin-logout"]',
  language: '[data-testid="admin-language-select"]',
  theme: '[data-testid="admin-theme-select"]',
};
