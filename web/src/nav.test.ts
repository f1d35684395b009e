import { describe, expect, it } from 'vitest';
import { accessTo, isPublicPath, landingPath, routeForPath, ROUTES, visibleRoutes, type Principal } from './nav';

// Permissions as GET /api/me reports them (docs/auth.md permission table: the operational
// roles form a ladder; auditor and admin stand outside it).
const VIEWER = ['read_transparency', 'live_view_blurred'];
const OPERATOR = [...VIEWER, 'view_alerts', 'acknowledge_alerts'];
const INVESTIGATOR = [...OPERATOR, 'search_events', 'playback', 'plate_query', 'export', 'propose_watchlist', 'read_policies'];
const ROLE_PERMISSIONS: Record<string, string[]> = {
  viewer: VIEWER,
  operator: OPERATOR,
  investigator: INVESTIGATOR,
  supervisor: [...INVESTIGATOR, 'approve_watchlist', 'approve_unblurred_export', 'evidence_hold'],
  auditor: ['read_transparency', 'read_audit', 'read_statistics', 'read_config', 'read_policies'],
  admin: ['read_transparency', 'read_config', 'manage_cameras', 'manage_users', 'manage_policies', 'read_policies'],
};

const as = (role: string): Principal => ({ user: `a-${role}`, role, permissions: ROLE_PERMISSIONS[role] ?? [] });
const ids = (role: string): string[] => visibleRoutes(as(role)).map((r) => r.id);

describe('visibleRoutes', () => {
  it('shows each role only the pages its permissions allow', () => {
    expect(ids('viewer')).toEqual(['map', 'live']);
    expect(ids('operator')).toEqual(['map', 'live', 'alerts', 'charts', 'traffic', 'matches', 'plates']);
    expect(ids('investigator')).toEqual(['map', 'live', 'alerts', 'events', 'playback', 'charts', 'traffic', 'matches', 'plates', 'watchlist', 'policy']);
    expect(ids('supervisor')).toEqual(['map', 'live', 'alerts', 'events', 'playback', 'charts', 'traffic', 'matches', 'plates', 'watchlist', 'policy']);
    expect(ids('auditor')).toEqual(['map', 'watchlist', 'policy', 'audit']);
    expect(ids('admin')).toEqual(['map', 'watchlist', 'policy', 'admin-cameras', 'admin-users']);
  });
  it('never lists the public transparency page in the main navigation', () => {
    for (const role of Object.keys(ROLE_PERMISSIONS)) expect(ids(role)).not.toContain('transparency');
  });
  it('shows only the map to a user with no known permission', () => {
    expect(visibleRoutes({ user: 'x', role: 'public', permissions: [] }).map((r) => r.id)).toEqual(['map']);
  });
});

describe('accessTo', () => {
  it('refuses the admin pages to a viewer, naming the role', () => {
    const route = routeForPath('/admin/users');
    expect(route).not.toBeNull();
    if (!route) return;
    expect(accessTo(as('viewer'), route)).toEqual({ allowed: false, message: 'Your role (viewer) may not open the admin pages.' });
    expect(accessTo(as('admin'), route)).toEqual({ allowed: true });
  });
  it('refuses playback to an operator', () => {
    const route = routeForPath('/playback');
    if (!route) throw new Error('no playback route');
    const access = accessTo(as('operator'), route);
    expect(access.allowed).toBe(false);
  });
});

describe('the oversight pages', () => {
  it('refuses the policy records to viewers and operators, naming the area', () => {
    const route = routeForPath('/policy');
    if (!route) throw new Error('no policy route');
    expect(accessTo(as('viewer'), route)).toEqual({ allowed: false, message: 'Your role (viewer) may not open the policy records.' });
    expect(accessTo(as('operator'), route).allowed).toBe(false);
    for (const role of ['investigator', 'supervisor', 'auditor', 'admin']) expect(accessTo(as(role), route)).toEqual({ allowed: true });
  });
  it('opens the audit log to the auditor only', () => {
    const route = routeForPath('/audit/');
    if (!route) throw new Error('no audit route');
    expect(route.id).toBe('audit');
    const allowed = Object.keys(ROLE_PERMISSIONS).filter((role) => accessTo(as(role), route).allowed);
    expect(allowed).toEqual(['auditor']);
  });
});

describe('plate and traffic pages', () => {
  it('open to the roles that see alerts (the plates page shows them its hits only)', () => {
    for (const path of ['/plates', '/traffic']) {
      const route = routeForPath(path);
      if (!route) throw new Error(`no route ${path}`);
      const allowed = Object.keys(ROLE_PERMISSIONS).filter((role) => accessTo(as(role), route).allowed);
      expect(allowed).toEqual(['operator', 'investigator', 'supervisor']);
    }
    expect(accessTo(as('auditor'), routeForPath('/plates') ?? ROUTES[0]!)).toEqual({ allowed: false, message: 'Your role (auditor) may not open the licence plates.' });
  });
});

describe('isPublicPath', () => {
  it('lets only the transparency page open without login', () => {
    expect(isPublicPath('/transparency')).toBe(true);
    expect(isPublicPath('/transparency/')).toBe(true);
    for (const p of ['/', '/map', '/policy', '/audit', '/login', '/admin', '/nope']) expect(isPublicPath(p)).toBe(false);
  });
});

describe('routeForPath', () => {
  it('ignores trailing slashes and maps /admin to the cameras page', () => {
    expect(routeForPath('/live/')?.id).toBe('live');
    expect(routeForPath('/admin')?.id).toBe('admin-cameras');
    expect(routeForPath('/nope')).toBeNull();
  });
});

describe('landingPath', () => {
  it('goes where the user wanted when allowed, else to the first allowed page', () => {
    expect(landingPath(as('investigator'), '/playback')).toBe('/playback');
    expect(landingPath(as('viewer'), '/playback')).toBe('/map');
    expect(landingPath(as('viewer'), null)).toBe('/map');
    expect(landingPath(as('viewer'), '/unknown')).toBe('/map');
    expect(landingPath(as('auditor'), '/audit')).toBe('/audit');
    expect(landingPath(as('viewer'), '/transparency')).toBe('/transparency');
  });
});
