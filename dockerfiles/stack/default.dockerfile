# tsk default stack: no language toolchain beyond the base layer (build-essential, python3, git; trixie:
# GCC 14, Python 3.13).
