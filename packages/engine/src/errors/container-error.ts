import { TskError, type TskErrorOptions } from './tsk-error.js';

/** The Docker engine refused or failed a container, network or volume operation. */
export class ContainerError extends TskError {
  constructor(message: string, options?: TskErrorOptions) {
    super('CONTAINER', message, options);
  }
}

/** No Docker engine answers on the configured socket. */
export class DockerUnavailableError extends TskError {
  constructor(message: string, options?: TskErrorOptions) {
    super('DOCKER_UNAVAILABLE', message, options);
  }
}
