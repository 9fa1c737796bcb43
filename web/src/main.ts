import { classPage } from './class-page';
import { parseDashboardLink, studentAccess } from './class-api';
import { labPage } from './lab-page';
import { language, setLanguage } from './i18n';
import { parseLabLink, startPage } from './start-page';
import './style.css';

const root = document.getElementById('app')!;
setLanguage(language());
const target = parseLabLink(location.href);
const dashboard = parseDashboardLink(location.href);
if (target) labPage(root, target.lab, target.token, studentAccess(location.hash));
else if (dashboard) classPage(root, dashboard);
else startPage(root, /^\/(labs|classes)\//.test(location.pathname) ? 'badLink' : undefined);
