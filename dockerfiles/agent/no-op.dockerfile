# tsk no-op agent: only prints the instructions; nothing to install.
