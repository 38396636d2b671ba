import { describe, expect, it } from 'vitest';
import { desktopNotifier, hasDesktopSession } from './desktop-notifier.js';

describe('hasDesktopSession', () => {
  it('finds a Linux desktop by its display and session bus, and none on a server or in a container', () => {
    expect(hasDesktopSession({ DISPLAY: ':0', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' }, 'linux')).toBe(true);
    expect(hasDesktopSession({ WAYLAND_DISPLAY: 'wayland-0', XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux')).toBe(true);
    expect(hasDesktopSession({}, 'linux')).toBe(false);
    expect(hasDesktopSession({ DISPLAY: ':0' }, 'linux')).toBe(false);
  });

  it('uses the macOS desktop unless logged in over SSH', () => {
    expect(hasDesktopSession({}, 'darwin')).toBe(true);
    expect(hasDesktopSession({ SSH_CONNECTION: '1.2.3.4 5 6.7.8.9 22' }, 'darwin')).toBe(false);
    expect(hasDesktopSession({}, 'win32')).toBe(false);
  });

  it('never throws, even when the notifier program is missing', () => {
    const notify = desktopNotifier({ DISPLAY: ':0', DBUS_SESSION_BUS_ADDRESS: 'x', PATH: '/nonexistent' }, 'linux');
    expect(() => notify('title', 'body')).not.toThrow();
  });
});
