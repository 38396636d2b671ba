/** One task this worker is running, and how to stop it. */
interface RunningTask {
  controller: AbortController;
  /** Why it was aborted (becomes the task's error), once it has been. */
  reason: string | undefined;
}

/** The tasks this worker is running right now, each with the switch that cancels it. */
export class RunningTasks {
  private readonly tasks = new Map<string, RunningTask>();

  /** Register a task; returns its abort signal. */
  start(id: string): AbortSignal {
    const controller = new AbortController();
    this.tasks.set(id, { controller, reason: undefined });
    return controller.signal;
  }

  end(id: string): void {
    this.tasks.delete(id);
  }

  /** Abort a running task (the runner kills its container); false when it is not running here. */
  cancel(id: string, reason: string): boolean {
    const task = this.tasks.get(id);
    if (task === undefined || task.controller.signal.aborted) return false;
    task.reason = reason;
    task.controller.abort();
    return true;
  }

  /** Abort every running task; returns their ids. */
  cancelAll(reason: string): string[] {
    return this.ids().filter((id) => this.cancel(id, reason));
  }

  reasonOf(id: string): string | undefined {
    return this.tasks.get(id)?.reason;
  }

  ids(): string[] {
    return [...this.tasks.keys()];
  }

  get size(): number {
    return this.tasks.size;
  }
}
