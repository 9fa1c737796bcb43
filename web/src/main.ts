import { labPage } from './lab-page';
import { language, setLanguage } from './i18n';
import { parseLabLink, startPage } from './start-page';
import './style.css';

const root = document.getElementById('app')!;
setLanguage(language());
const target = parseLabLink(location.href);
if (target) labPage(root, target.lab, target.token);
else startPage(root, location.pathname.startsWith('/labs/') ? 'badLink' : undefined);
