// Applies the saved theme before the first paint (the SPA confirms it from the server later).
(function () {
  var theme = 'light';
  try {
    theme = localStorage.getItem('chatd.theme') || 'light';
  } catch (e) {}
  if (theme === 'system') {
    theme = window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  if (theme !== 'light' && theme !== 'dark' && theme !== 'sepia') theme = 'light';
  document.documentElement.setAttribute('data-theme', theme);
  // The language as i18n.ts decides it: the stored choice, else the browser's (zh-* → Chinese).
  var lang = null;
  try {
    lang = localStorage.getItem('chatd.lang');
  } catch (e) {}
  if (lang !== 'en' && lang !== 'zh-CN') {
    var first = (navigator.languages && navigator.languages[0]) || navigator.language || '';
    lang = /^zh\b/i.test(first) ? 'zh-CN' : 'en';
  }
  document.documentElement.lang = lang;
})();
