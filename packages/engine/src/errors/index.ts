export { TskError, type TskErrorCode, type TskErrorOptions } from './tsk-error.js';
export { ConfigError } from './config-error.js';
export { TemplateError } from './template-error.js';
export { InputError } from './input-error.js';
export { GitCommandError, type GitCommandErrorDetails } from './git-command-error.js';
export { ImageBuildError } from './image-build-error.js';
export { ContainerError, DockerUnavailableError } from './container-error.js';
export { TaskCancelledError } from './task-cancelled-error.js';
export { ProxyError } from './proxy-error.js';
