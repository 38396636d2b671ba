import type { EnvVar } from '../config/resolved-config.js';

/**
 * The variables that send a sandbox's traffic through its proxy. Both spellings of each, because tools
 * disagree on case (curl reads only lower-case `http_proxy`; many others only upper case). Java ignores
 * all of them, hence `JAVA_TOOL_OPTIONS`. The proxy host itself is exempt, so that forwarded host ports
 * (`$TSK_PROXY_HOST:<port>`) are reached directly rather than through Squid.
 */
export function proxyEnv(host: string, port: number): EnvVar[] {
  const url = `http://${host}:${port}`;
  const noProxy = ['localhost', '127.0.0.1', '::1', host].join(',');
  const javaNoProxy = ['localhost', '127.0.0.1', host].join('|');
  const java = [
    `-Dhttp.proxyHost=${host}`,
    `-Dhttp.proxyPort=${port}`,
    `-Dhttps.proxyHost=${host}`,
    `-Dhttps.proxyPort=${port}`,
    `-Dhttp.nonProxyHosts=${javaNoProxy}`,
  ].join(' ');
  return [
    { name: 'HTTP_PROXY', value: url },
    { name: 'HTTPS_PROXY', value: url },
    { name: 'http_proxy', value: url },
    { name: 'https_proxy', value: url },
    { name: 'NO_PROXY', value: noProxy },
    { name: 'no_proxy', value: noProxy },
    { name: 'JAVA_TOOL_OPTIONS', value: java },
    { name: 'TSK_PROXY_HOST', value: host },
  ];
}

/**
 * Docker's predefined proxy build arguments (they reach RUN steps without an ARG line, and never enter
 * the image or its cache key), for builds on a task's network.
 */
export function proxyBuildArgs(host: string, port: number): Record<string, string> {
  const url = `http://${host}:${port}`;
  const noProxy = ['localhost', '127.0.0.1', '::1'].join(',');
  return { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url, NO_PROXY: noProxy, no_proxy: noProxy };
}
