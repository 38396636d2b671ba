import { Flags } from '@oclif/core';
import { bootstrapBaseImage, checkBootstrapOptions, DEFAULT_BASE_IMAGE, ensureBaseImage, loadConfig } from '@tsk/engine';
import { BaseCommand } from '../../base-command.js';
import { printConfigWarnings } from '../../config-warnings.js';
import { createEngineContext } from '../../engine-context.js';
import { terminalSink } from '../../terminal-sink.js';

export default class DockerBootstrap extends BaseCommand {
  static override summary = 'Build the base image locally from a Debian mirror (for hosts with no image registry).';
  static override description =
    'Runs debootstrap (minbase) into a temporary directory and imports it as the configured base_image ' +
    `(default ${DEFAULT_BASE_IMAGE}), or as --image. The Debian suite is the one the tag names ` +
    '(debian:trixie-slim → trixie). Needs root and debootstrap. With --if-missing it does nothing for an ' +
    'image that exists and tries to pull a missing one before building it; without --image it then makes ' +
    `sure of ${DEFAULT_BASE_IMAGE} too, which the network proxy runs on whatever base_image says.`;
  static override flags = {
    'if-missing': Flags.boolean({ description: 'Only when the base image is missing; try a pull first.', default: false }),
    image: Flags.string({ description: 'Image to create (default: the configured base_image).' }),
    mirror: Flags.string({ description: 'Debian mirror for debootstrap.', default: 'http://deb.debian.org/debian' }),
    suite: Flags.string({ description: 'Debian suite (default: the one the image tag names).' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DockerBootstrap);
    const log = terminalSink();
    const { task, warnings } = await loadConfig({});
    printConfigWarnings(warnings);
    const tag = flags.image ?? task.baseImage;
    // Before Docker is asked anything: what is malformed is said as such, with or without an engine.
    checkBootstrapOptions({ tag, suite: flags.suite, mirror: flags.mirror });
    const { docker } = await createEngineContext();
    const options = { docker, tag, mirror: flags.mirror, suite: flags.suite, log };
    if (!flags['if-missing']) return bootstrapBaseImage(options);
    await ensureBaseImage(options);
    // What `npm run setup` relies on: every base image tsk needs here, the proxy's included.
    if (flags.image === undefined && tag !== DEFAULT_BASE_IMAGE) await ensureBaseImage({ docker, tag: DEFAULT_BASE_IMAGE, mirror: flags.mirror, log });
  }
}
