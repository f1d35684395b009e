import { describe, expect, it } from 'vitest';
import { accessTo, landingPath, routeForPath, visibleRoutes, type Principal } from './nav';

// Permissions as GET /api/me reports them (docs/auth.md permission table).
const ROLE_PERMISSIONS: Record<string, string[]> = {
  viewer: ['read_transparency', 'live_view_blurred'],
  operator: ['read_transparency', 'live_view_blurred', 'view_alerts', 'acknowledge_alerts'],
  investigator: ['read_transparency', 'search_events', 'playback', 'plate_query', 'export', 'propose_watchlist'],
  auditor: ['read_transparency', 'read_audit', 'read_statistics', 'read_config'],
  admin: ['read_transparency', 'read_config', 'manage_cameras', 'manage_users', 'manage_policies'],
};

const as = (role: string): Principal => ({ user: `a-${role}`, role, permissions: ROLE_PERMISSIONS[role] ?? [] });
const ids = (role: string): string[] => visibleRoutes(as(role)).map((r) => r.id);

describe('visibleRoutes', () => {
  it('shows each role only the pages its permissions allow', () => {
    expect(ids('viewer')).toEqual(['map', 'live']);
    expect(ids('operator')).toEqual(['map', 'live', 'alerts', 'charts']);
    expect(ids('investigator')).toEqual(['map', 'events', 'playback']);
    expect(ids('auditor')).toEqual(['map']);
    expect(ids('admin')).toEqual(['map', 'admin-cameras', 'admin-users']);
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
  });
});
