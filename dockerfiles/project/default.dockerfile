# tsk project layer: empty unless the project's `setup` adds Dockerfile lines.
