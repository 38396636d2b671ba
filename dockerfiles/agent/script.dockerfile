# tsk script agent: runs the instructions with bash, which the base layer already has.
