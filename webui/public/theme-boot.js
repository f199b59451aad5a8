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
  try {
    if (localStorage.getItem('chatd.lang') === 'en') document.documentElement.lang = 'en';
  } catch (e) {}
})();
