/**
 * HTTP status of a dockerode error, when it has one (404 gone, 304 already stopped, 409 conflict). Its
 * own module, without dockerode, so code that only reads errors (the embedded Redis) loads no client.
 */
export function dockerStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}
