import { render } from 'preact';
import { App } from './app';
import { savedLang, switchLanguage } from './i18n';
import { captureInvite } from './invite';
import './styles/theme.css';
import './styles/app.css';
import './styles/markdown.css';
import './styles/reasoning.css';
import './styles/attachments.css';
import './styles/pay.css';

captureInvite();

const start = () => render(<App />, document.getElementById('app')!);
// English strings are a separate chunk: fetch them before the first render when chosen.
if (savedLang() === 'en') switchLanguage('en').then(start, start);
else start();
