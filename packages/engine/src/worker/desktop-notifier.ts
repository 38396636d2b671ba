import { spawn } from 'node:child_process';
import { log as debug } from '../logging/index.js';

/** Shows a desktop notification; never throws and never waits for the notifier. */
export type DesktopNotifier = (title: string, body: string) => void;

/** Whether this process can reach a desktop session. */
export function hasDesktopSession(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'darwin') return env.SSH_CONNECTION === undefined;
  if (platform === 'linux') return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY) && Boolean(env.DBUS_SESSION_BUS_ADDRESS || env.XDG_RUNTIME_DIR);
  return false;
}

/** AppleScript string literal. */
function appleString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * A notifier for this machine: osascript on macOS, notify-send on Linux, and nothing where there is no
 * desktop session (servers, containers, SSH). A missing notifier program is skipped silently.
 */
export function desktopNotifier(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): DesktopNotifier {
  if (!hasDesktopSession(env, platform)) return () => undefined;
  return (title, body) => {
    const [command, args] =
      platform === 'darwin'
        ? ['osascript', ['-e', `display notification ${appleString(body)} with title ${appleString(title)}`]]
        : ['notify-send', ['--app-name=tsk', title, body]];
    try {
      const child = spawn(command, args, { stdio: 'ignore', env });
      child.on('error', (error) => debug.queue('notification skipped: %s', error.message));
      child.unref();
    } catch (error) {
      debug.queue('notification skipped: %s', (error as Error).message);
    }
  };
}
