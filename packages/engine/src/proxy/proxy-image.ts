import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { errorCode } from '../common/error-code.js';
import { DEFAULT_BASE_IMAGE, ensureBaseImage, type EnsureImageResult, type ImageBuilder, type ImagePlan } from '../docker/index.js';
import { ConfigError } from '../errors/index.js';
import type { LogSink } from '../logging/index.js';

/**
 * The proxy image starts FROM this unless told otherwise. It is tsk's infrastructure, not the sandbox's,
 * so never a task's `base_image`; it is tsk's default base image, so that a machine on the defaults needs
 * one base image for sandboxes, the proxy and Redis (and squid.conf is written for that Debian's Squid).
 */
export const DEFAULT_PROXY_BASE_IMAGE = DEFAULT_BASE_IMAGE;

/** Files of the `squid/` folder that go into the proxy image (the Dockerfile is rendered, the rest copied). */
const CONTEXT_FILES = ['entrypoint.sh', 'squid.conf', 'tsk-denials.conf', 'ERR_TSK_DENIED'] as const;

/** The proxy image to build from a `squid/` folder, and the default squid.conf found in it. */
export interface ProxyImagePlan extends ImagePlan {
  defaultSquidConf: string;
}

/**
 * Plan the proxy image from the `squid/` folder: the Dockerfile with its base image filled in, the
 * entrypoint and default squid.conf as context, and a `tsk/proxy:<hash>` tag over all of it, so a change
 * to any file of the folder builds a new image.
 *
 * @throws ConfigError when a file of the folder is missing.
 */
export async function planProxyImage(squidDir: string, baseImage: string = DEFAULT_PROXY_BASE_IMAGE): Promise<ProxyImagePlan> {
  const template = await readSquidFile(squidDir, 'Dockerfile');
  // Read at once, but report the first missing file in the folder's order, not whichever read failed first.
  const read = await Promise.allSettled(CONTEXT_FILES.map(async (name) => ({ name, content: await readSquidFile(squidDir, name) })));
  const contextFiles = read.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
  const dockerfile = template.replaceAll('{{BASE_IMAGE}}', baseImage);
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ format: 'tsk-proxy-image-v1', dockerfile, files: contextFiles }));
  return {
    tag: `tsk/proxy:${hash.digest('hex').slice(0, 12)}`,
    baseImage,
    dockerfile,
    layers: [{ kind: 'base', name: baseImage, source: 'built-in' }],
    contextFiles,
    buildArgs: {},
    labels: { 'tsk.role': 'proxy' },
    defaultSquidConf: contextFiles.find((file) => file.name === 'squid.conf')?.content ?? '',
  };
}

export interface EnsureProxyImageOptions {
  docker: Dockerode;
  images: ImageBuilder;
  plan: ImagePlan;
  log: LogSink;
  signal?: AbortSignal;
  /** Rebuild without Docker's layer cache. @defaultValue false */
  noCache?: boolean;
}

/** Build the proxy image unless it exists (bootstrapping the base image first on hosts with no registry). */
export async function ensureProxyImage(options: EnsureProxyImageOptions): Promise<EnsureImageResult> {
  const { docker, images, plan, log, signal } = options;
  const noCache = options.noCache === true;
  if (noCache || !(await images.imageExists(plan.tag))) {
    await ensureBaseImage({ docker, tag: plan.baseImage, log, signal });
  }
  return images.ensureImage(plan, { log, signal, noCache });
}

async function readSquidFile(squidDir: string, name: string): Promise<string> {
  const path = join(squidDir, name);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    throw new ConfigError(`Proxy image file ${path} is missing`, {
      hint: 'set TSK_ASSETS_DIR to the folder holding tsk’s squid/',
      cause: error,
    });
  }
}
