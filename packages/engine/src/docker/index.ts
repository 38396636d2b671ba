export { LAYER_KINDS, BUILT_IN_STACKS, type LayerKind, type LayerSource, type ImageLayer, type BuiltInStack } from './layers.js';
export { detectStack, stackFromFileNames } from './stack-detection.js';
export { loadCaFiles, type CaFile } from './ca-files.js';
export { copySources, TSK_CONTEXT_DIR } from './project-copy.js';
export {
  composeImagePlan,
  renderDryRun,
  builtInLayerNames,
  type ComposeImagePlanInput,
  type ImagePlan,
  type ContextFile,
} from './dockerfile-composer.js';
export {
  ImageBuilder,
  taskLimits,
  type ImageBuilderOptions,
  type EnsureImageOptions,
  type EnsureImageResult,
  type BuildNetwork,
  type BuildLimits,
} from './image-builder.js';
export {
  bootstrapBaseImage,
  checkBootstrapOptions,
  ensureBaseImage,
  imageId,
  debianSuiteOf,
  upgradeNotice,
  DEFAULT_BASE_IMAGE,
  EARLIER_DEFAULT_BASE_IMAGES,
  type BootstrapBaseImageOptions,
  type EnsureBaseImageOptions,
  type BaseImageOrigin,
  type EnsuredBaseImage,
} from './base-image.js';
export { createDocker, assertDockerAvailable, dockerStatus, engineCpuCount, type Dockerode } from './docker-client.js';
export {
  buildSandboxSpec,
  sandboxName,
  LABEL_TASK,
  LABEL_WORKER,
  LABEL_MANAGED,
  REQUIRED_DROPPED_CAPS,
  SANDBOX_RESOLV_CONF,
  type SandboxNetwork,
  type SandboxSpecOptions,
} from './container-spec.js';
export { SandboxContainer, type SandboxExit, type SandboxRunOptions, type SandboxTerminalOptions } from './sandbox-container.js';
export type { TerminalSession, TerminalSize } from './terminal-session.js';
export {
  WorkspaceVolume,
  overlayVolumeProblem,
  removeWorkspaceVolumes,
  workspaceVolumeName,
  workspaceVolumeSpec,
  LABEL_ROLE_WORKSPACE,
  type LayerDirs,
} from './workspace-volume.js';
