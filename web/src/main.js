// main.js: the entry of Vestigo's web workspace. It sets the language,
// reads the session (GET /me), draws the shell and routes every path to
// its page. A 401 from any request shows the login and then returns to the
// page the user was on.

import './app.css';
import { h, replace } from './dom.js';
import { onUnauthorized } from './api.js';
import { t, setLocale, initialLocale, onLocaleChange } from './i18n.js';
import { route, start, navigate, refresh, currentPath } from './router.js';
import { getMe, setMe } from './pages/session.js';
import { mountShell, updateShell } from './pages/shell.js';
import { loginPage, loadSession } from './pages/login.js';
import { homePage } from './pages/home.js';
import { searchPage } from './pages/search.js';
import { addressPage } from './pages/address.js';
import { txPage } from './pages/tx.js';
import { evmAddressPage } from './pages/evmaddress.js';
import { evmTxPage } from './pages/evmtx.js';
import { isEVMAddress, isEVMTx } from './pages/evm.js';
import { blockPage } from './pages/block.js';
import { entityPage } from './pages/entity.js';
import { graphPage } from './pages/graph.js';
import { casesPage } from './cases/list.js';
import { casePage } from './cases/case.js';
import { errorBanner, pageHeader, setTitle, link } from './pages/common.js';

route('/login', loginPage, { public: true, nav: '' });
route('/', homePage, { nav: '' });
route('/search', searchPage, { nav: 'search' });
// 0x addresses and transaction hashes are of EVM chains: their own pages.
route('/address/:addr', (view, ctx) => (isEVMAddress(ctx.params.addr) ? evmAddressPage(view, ctx) : addressPage(view, ctx)), { nav: 'search' });
route('/tx/:txid', (view, ctx) => (isEVMTx(ctx.params.txid) ? evmTxPage(view, ctx) : txPage(view, ctx)), { nav: 'search' });
route('/block/:block', blockPage, { nav: 'search' });
route('/entity/:id', entityPage, { nav: 'search' });
route('/cases', casesPage, { nav: 'cases' });
route('/cases/:id', casePage, { nav: 'cases' });
route('/graph', graphPage, { nav: '', keepOnLocale: true, className: 'page-graph' });

async function boot() {
  setLocale(initialLocale());
  document.documentElement.lang = initialLocale();
  const root = document.getElementById('app');
  const bar = h('header', { className: 'topbar' });
  const main = h('main', { className: 'main', id: 'main' });
  replace(root, bar, main);
  mountShell(bar);

  try {
    await loadSession();
  } catch {
    setMe(null); // no session (401) or the server is unreachable: the login says so
  }
  updateShell();

  onUnauthorized(() => {
    const here = currentPath();
    setMe(null);
    updateShell('');
    if (!here.startsWith('/login')) navigate('/login?next=' + encodeURIComponent(here), { replace: true });
  });
  onLocaleChange(() => {
    updateShell();
    refresh();
  });

  start(main, {
    guard: (r, ctx) => {
      if (r && !r.public && !getMe()) return '/login?next=' + encodeURIComponent(ctx.path);
      if (r?.public && getMe()) return '/';
      return null;
    },
    before: (r) => {
      for (const d of document.querySelectorAll('dialog[open]')) d.close();
      document.body.classList.toggle('wide', Boolean(r?.className === 'page-graph'));
      updateShell(r?.nav ?? '');
    },
    notFound: (view) => {
      setTitle(t('error.pageNotFound'));
      view.append(pageHeader({ title: t('error.pageNotFound') }), h('p', {}, link('/', t('shell.home'))));
    },
    error: (view, err) => view.append(errorBanner(err)),
  });
}

boot();
