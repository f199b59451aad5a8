import { render } from 'preact';
import { App } from './app';
import { savedLang, switchLanguage } from './i18n';
import { captureInvite } from './invite';
import { registerServiceWorker } from './sw-register';
import { syncThemeColor } from './theme';
import './styles/theme.css';
import './styles/app.css';
import './styles/login.css';
import './styles/markdown.css';
import './styles/reasoning.css';
import './styles/attachments.css';
import './styles/pay.css';

captureInvite();
registerServiceWorker();
syncThemeColor();

const start = () => render(<App />, document.getElementById('app')!);
// English strings are a separate chunk: fetch them before the first render when chosen (or when
// the browser prefers English on a first visit, without storing that as a choice).
if (savedLang() === 'en') switchLanguage('en', false).then(start, start);
else start();
