import { TskError, type TskErrorOptions } from './tsk-error.js';

/** A Docker image build failed. `step` is the Dockerfile step that failed, `output` its last lines. */
export class ImageBuildError extends TskError {
  readonly tag: string;
  readonly step: string | undefined;
  readonly output: string;

  constructor(tag: string, message: string, details: { step?: string; output?: string } = {}, options?: TskErrorOptions) {
    super('IMAGE_BUILD', message, options);
    this.tag = tag;
    this.step = details.step;
    this.output = details.output ?? '';
  }
}
