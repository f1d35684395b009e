// The application shell: session state, navigation bar, History API router.

import { ApiError, errorMessage, getJson, postJson, setCsrfToken, setUnauthenticatedHandler } from './api';
import type { Cleanup, PageContext, PageRenderer } from './context';
import { append, clear, h, statusLine } from './dom';
import { accessTo, isPublicPath, landingPath, routeForPath, TRANSPARENCY_PATH, visibleRoutes, type RouteId } from './nav';
import { renderLogin } from './pages/login';
import { renderMap } from './pages/map';
import { renderLive } from './pages/live';
import { renderAlerts } from './pages/alerts';
import { renderEvents } from './pages/events';
import { renderPlayback } from './pages/playback';
import { renderCharts } from './pages/charts';
import { renderPlates } from './pages/plates';
import { renderTraffic } from './pages/traffic';
import { renderAdminCameras } from './pages/admin_cameras';
import { renderAdminUsers } from './pages/admin_users';
import { renderPolicy } from './pages/policy';
import { renderMatches, renderWatchlist } from './pages/watchlist';
import { renderAudit } from './pages/audit';
import { renderTransparency } from './pages/transparency';
import type { LoginAnswer, Me, UiConfig } from './types';

const PAGES: Record<Exclude<RouteId, 'transparency'>, PageRenderer> = {
  map: renderMap,
  live: renderLive,
  alerts: renderAlerts,
  events: renderEvents,
  playback: renderPlayback,
  charts: renderCharts,
  traffic: renderTraffic,
  plates: renderPlates,
  watchlist: renderWatchlist,
  matches: renderMatches,
  policy: renderPolicy,
  audit: renderAudit,
  'admin-cameras': renderAdminCameras,
  'admin-users': renderAdminUsers,
};

const DEFAULT_UI: UiConfig = {
  site_name: 'Custos',
  map: { tile_url: '', attribution: '', center: [0, 0], zoom: 2 },
};

export class App {
  private me: Me | null = null;
  private ui: UiConfig = DEFAULT_UI;
  private cleanup: Cleanup | null = null;
  private readonly header = h('header', { class: 'topbar' });
  private readonly main = h('main', { id: 'main', tabindex: -1 });

  constructor(private readonly root: HTMLElement) {}

  async start(): Promise<void> {
    clear(this.root);
    append(
      this.root,
      h('a', { class: 'skip-link', href: '#main', text: 'Skip to content' }),
      this.header,
      this.main,
    );
    setUnauthenticatedHandler(() => this.onUnauthenticated());
    window.addEventListener('popstate', () => void this.route());
    document.addEventListener('click', (event) => this.interceptLink(event));
    try {
      this.ui = await getJson<UiConfig>('/public/ui.json');
    } catch {
      // The UI works without it: default map view, no tiles.
    }
    document.title = this.ui.site_name;
    await this.loadMe();
    await this.route();
  }

  /** Client-side navigation; `replace` for redirects that should not make a history entry. */
  navigate(path: string, replace = false): void {
    if (replace) window.history.replaceState(null, '', path);
    else window.history.pushState(null, '', path);
    void this.route();
  }

  private async loadMe(): Promise<void> {
    try {
      this.me = await getJson<Me>('/api/me');
      setCsrfToken(this.me.csrf_token ?? '');
    } catch (error) {
      this.me = null;
      if (!(error instanceof ApiError && error.status === 401)) {
        console.warn('GET /api/me failed:', errorMessage(error));
      }
    }
  }

  private onUnauthenticated(): void {
    if (!this.me) return;
    this.me = null;
    setCsrfToken('');
    const here = window.location.pathname;
    this.navigate(`/login?next=${encodeURIComponent(here)}`, true);
  }

  private interceptLink(event: MouseEvent): void {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const target = event.target instanceof Element ? event.target.closest('a') : null;
    if (!target || target.hasAttribute('download') || target.target) return;
    const url = new URL(target.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/public/')) return;
    if (target.getAttribute('href')?.startsWith('#')) return;
    event.preventDefault();
    this.navigate(url.pathname + url.search);
  }

  private async route(): Promise<void> {
    this.cleanup?.();
    this.cleanup = null;
    clear(this.main);
    const path = window.location.pathname;
    if (path === '/login') {
      this.renderHeader();
      this.renderLoginPage();
      return;
    }
    if (isPublicPath(path)) {
      // The transparency page: for everyone, signed in or not (DESIGN.md §1.7).
      this.renderHeader();
      document.title = `Transparency · ${this.ui.site_name}`;
      const section = h('section', { class: 'page page-transparency', 'aria-labelledby': 'page-title' });
      this.main.appendChild(section);
      try {
        this.cleanup = renderTransparency(section, { ui: this.ui, signedIn: this.me !== null });
      } catch (error) {
        append(section, statusLine('error', `This page failed: ${errorMessage(error)}`));
      }
      return;
    }
    if (!this.me) {
      this.navigate(`/login?next=${encodeURIComponent(path + window.location.search)}`, true);
      return;
    }
    const me = this.me;
    if (path === '/' || path === '') {
      this.navigate(landingPath(me, null), true);
      return;
    }
    this.renderHeader();
    const route = routeForPath(path);
    if (!route) {
      append(
        this.main,
        h('h1', { text: 'Page not found' }),
        h('p', {}, 'There is no page at ', h('code', { text: path }), '. ', h('a', { href: landingPath(me, null), text: 'Go to the start page' })),
      );
      return;
    }
    document.title = `${route.title} · ${this.ui.site_name}`;
    const access = accessTo(me, route);
    if (!access.allowed) {
      append(
        this.main,
        h('h1', { text: route.title }),
        h('div', { class: 'refusal', role: 'alert' }, access.message),
      );
      return;
    }
    if (route.id === 'transparency') return; // Public: handled above.
    const ctx: PageContext = { me, ui: this.ui, navigate: (p) => this.navigate(p) };
    const section = h('section', { class: `page page-${route.id}`, 'aria-labelledby': 'page-title' });
    this.main.appendChild(section);
    try {
      this.cleanup = PAGES[route.id](section, ctx) ?? null;
    } catch (error) {
      append(section, statusLine('error', `This page failed: ${errorMessage(error)}`));
    }
  }

  private renderHeader(): void {
    clear(this.header);
    const brand = h('a', { class: 'brand', href: '/' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true', text: '◉' }), this.ui.site_name);
    const current = routeForPath(window.location.pathname)?.id;
    const transparency = h('a', { class: 'public-link', href: TRANSPARENCY_PATH, text: 'Transparency' });
    if (current === 'transparency') transparency.setAttribute('aria-current', 'page');
    if (!this.me) {
      const login = window.location.pathname === '/login' ? null : h('a', { class: 'public-link', href: '/login', text: 'Log in' });
      append(this.header, brand, h('div', { class: 'who' }, transparency, login));
      return;
    }
    const me = this.me;
    const list = h('ul');
    for (const route of visibleRoutes(me)) {
      const link = h('a', { href: route.path, text: route.title, class: `nav-${route.group}` });
      if (route.id === current) link.setAttribute('aria-current', 'page');
      list.appendChild(h('li', {}, link));
    }
    const logout = h('button', {
      type: 'button',
      class: 'secondary',
      text: 'Log out',
      on: { click: () => void this.logout() },
    });
    append(
      this.header,
      brand,
      h('nav', { 'aria-label': 'Main' }, list),
      h('div', { class: 'who' }, transparency, h('span', { class: 'user-name', text: me.user }), h('span', { class: `role-badge role-${me.role}`, text: me.role }), logout),
    );
  }

  private async logout(): Promise<void> {
    try {
      await postJson<unknown>('/api/logout');
    } catch (error) {
      // An ended session is logged out already; anything else is worth a note.
      if (!(error instanceof ApiError && error.status === 401)) console.warn('logout:', errorMessage(error));
    }
    this.me = null;
    setCsrfToken('');
    this.navigate('/login', true);
  }

  private renderLoginPage(): void {
    const next = new URLSearchParams(window.location.search).get('next');
    this.cleanup = renderLogin(this.main, {
      siteName: this.ui.site_name,
      signedInAs: this.me?.user ?? null,
      onLogin: async (answer: LoginAnswer) => {
        setCsrfToken(answer.csrf_token);
        await this.loadMe();
        if (!this.me) throw new Error('Logged in, but GET /api/me failed; reload the page.');
        this.navigate(landingPath(this.me, next), true);
      },
    });
  }
}
