#!/usr/bin/env bash
# A real `tsk run` with the `script` agent on a scratch repository: shows the sandboxed run, then the
# result branch and its diff. Everything it creates is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
tsk=(node "$(pwd)/packages/producer-cli/bin/run.js")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tsk-demo-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
repo="$scratch/demo-repo"

mkdir -p "$repo" && cd "$repo"
git init -q -b main
git config user.name "tsk demo" && git config user.email "demo@example.com"
printf 'node_modules/\n.env\n' > .gitignore
printf '# Demo\n\nA scratch repository for the tsk demo.\n' > README.md
git add -A && git commit -q -m "initial commit"
# The task sees uncommitted work, but never ignored files.
printf '\nAn uncommitted edit.\n' >> README.md
printf 'SECRET=do-not-leak\n' > .env

cat > "$scratch/task.sh" <<'TASK'
echo "agent is $(id -un) (uid $(id -u)) in $(pwd)"
test ! -e .env && echo ".env was not copied into the sandbox"
echo "a host off the allowlist answers: HTTP $(curl -s -o /dev/null -w '%{http_code}' http://example.com/) (from the proxy)"
printf 'def greet(name):\n    return f"hello {name}"\n' > greet.py
git add greet.py && git commit -q -m "feat: add greet()"
echo "and one uncommitted leftover" >> README.md
TASK

echo "== tsk run --agent script -n demo (repository: $repo)"
"${tsk[@]}" run --repo "$repo" --agent script -t generic -n demo --prompt-file "$scratch/task.sh" </dev/null
branch=$(git for-each-ref --format='%(refname:short)' 'refs/heads/tsk/generic/demo/*' | head -1)
[ -n "$branch" ] || { echo "demo failed: no result branch" >&2; exit 1; }
echo
echo "== result branch: $branch"
git log --oneline main.."$branch"
echo
echo "== diff main...$branch"
git --no-pager diff --stat main..."$branch"
git --no-pager diff main..."$branch"
