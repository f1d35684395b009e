// Which pages a user may open, from the `permissions` of GET /api/me. Pure: no DOM, no fetch.
// The server decides (403 anyway); this only keeps the UI from offering what it would refuse.

export type RouteId =
  | 'map'
  | 'live'
  | 'alerts'
  | 'events'
  | 'playback'
  | 'charts'
  | 'traffic'
  | 'plates'
  | 'watchlist'
  | 'matches'
  | 'policy'
  | 'audit'
  | 'admin-cameras'
  | 'admin-users'
  | 'transparency';

export interface RouteInfo {
  id: RouteId;
  path: string;
  title: string;
  /** The permission of docs/auth.md the page's API calls need; null: every signed-in user. */
  permission: string | null;
  /** How the refusal names the page: "Your role (viewer) may not open <area>". */
  area: string;
  group: 'watch' | 'investigate' | 'oversight' | 'admin' | 'public';
  /** Opens without login (the transparency page); not in the main navigation. */
  public?: boolean;
}

export const ROUTES: readonly RouteInfo[] = [
  { id: 'map', path: '/map', title: 'Map', permission: null, area: 'the map', group: 'watch' },
  {
    id: 'live',
    path: '/live',
    title: 'Live',
    permission: 'live_view_blurred',
    area: 'the live view',
    group: 'watch',
  },
  {
    id: 'alerts',
    path: '/alerts',
    title: 'Alerts',
    permission: 'view_alerts',
    area: 'the alerts feed',
    group: 'watch',
  },
  {
    id: 'events',
    path: '/events',
    title: 'Event search',
    permission: 'search_events',
    area: 'the event search',
    group: 'investigate',
  },
  {
    id: 'playback',
    path: '/playback',
    title: 'Playback',
    permission: 'playback',
    area: 'recorded video',
    group: 'investigate',
  },
  {
    id: 'charts',
    path: '/charts',
    title: 'Charts',
    permission: 'view_alerts',
    area: 'the charts',
    group: 'investigate',
  },
  {
    id: 'traffic',
    path: '/traffic',
    title: 'Traffic',
    permission: 'view_alerts',
    area: 'the traffic counts',
    group: 'investigate',
  },
  {
    id: 'matches',
    path: '/matches',
    title: 'Face matches',
    permission: 'acknowledge_alerts',
    area: 'the face matches',
    group: 'watch',
  },
  {
    // Hits for every role that sees alerts; queries and the hotlist for plate_query (tabs).
    id: 'plates',
    path: '/plates',
    title: 'Plates',
    permission: 'view_alerts',
    area: 'the licence plates',
    group: 'investigate',
  },
  {
    id: 'watchlist',
    path: '/watchlist',
    title: 'Watchlist',
    permission: 'read_policies',
    area: 'the watchlist',
    group: 'oversight',
  },
  {
    id: 'policy',
    path: '/policy',
    title: 'Policy',
    permission: 'read_policies',
    area: 'the policy records',
    group: 'oversight',
  },
  {
    id: 'audit',
    path: '/audit',
    title: 'Audit log',
    permission: 'read_audit',
    area: 'the audit log',
    group: 'oversight',
  },
  {
    id: 'admin-cameras',
    path: '/admin/cameras',
    title: 'Cameras',
    permission: 'manage_cameras',
    area: 'the admin pages',
    group: 'admin',
  },
  {
    id: 'admin-users',
    path: '/admin/users',
    title: 'Users',
    permission: 'manage_users',
    area: 'the admin pages',
    group: 'admin',
  },
  {
    id: 'transparency',
    path: '/transparency',
    title: 'Transparency',
    permission: null,
    area: 'the transparency page',
    group: 'public',
    public: true,
  },
];

/** The public transparency page: opens without login, linked from the login page and header. */
export const TRANSPARENCY_PATH = '/transparency';

export interface Principal {
  user: string;
  role: string;
  permissions: readonly string[];
}

export function may(principal: Principal, permission: string | null): boolean {
  return permission === null || principal.permissions.includes(permission);
}

/** The routes to show in the navigation, in menu order (public pages are linked apart). */
export function visibleRoutes(principal: Principal): RouteInfo[] {
  return ROUTES.filter((route) => !route.public && may(principal, route.permission));
}

/** Whether `path` opens without login. */
export function isPublicPath(path: string): boolean {
  return routeForPath(path)?.public === true;
}

/** Finds the route of a path; trailing slashes are ignored. */
export function routeForPath(path: string): RouteInfo | null {
  const normalised = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (normalised === '/admin') return ROUTES.find((r) => r.id === 'admin-cameras') ?? null;
  return ROUTES.find((route) => route.path === normalised) ?? null;
}

export type Access = { allowed: true } | { allowed: false; message: string };

export function accessTo(principal: Principal, route: RouteInfo): Access {
  if (may(principal, route.permission)) return { allowed: true };
  return { allowed: false, message: `Your role (${principal.role}) may not open ${route.area}.` };
}

/** Where to land after login: the page asked for when allowed, else the first allowed page. */
export function landingPath(principal: Principal, wanted: string | null): string {
  const route = wanted ? routeForPath(wanted) : null;
  if (route && may(principal, route.permission)) return route.path;
  return visibleRoutes(principal)[0]?.path ?? '/map';
}
