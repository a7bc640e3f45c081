#!/usr/bin/env bash
# The whole flow on a throwaway example: a repository with a bare remote, a small model
# registry in Git tags, and what stagetag reads from it.
set -euo pipefail

work=$(mktemp -d "${TMPDIR:-/tmp}/stagetag-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME="Demo User" GIT_AUTHOR_EMAIL="demo@example.com"
export GIT_COMMITTER_NAME="Demo User" GIT_COMMITTER_EMAIL="demo@example.com"

# A clock a minute per step, so the example reads like weeks of work, not one second.
clock=$(( $(date +%s) - 86400 ))
tick() { clock=$((clock + 60)); export GIT_AUTHOR_DATE="$clock +0000" GIT_COMMITTER_DATE="$clock +0000"; }
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
commit() { tick; mkdir -p "$(dirname "$1")"; echo "$2" > "$1"; git add -A; git commit -qm "$2"; }
tag() { tick; git tag -a "$1" -m "$2" --cleanup=verbatim "${3:-HEAD}"; }

git init -q --bare "$work/origin.git"
git init -q -b main "$work/repo"
cd "$work/repo"
git remote add origin "$work/origin.git"

echo "Example registry in $work/repo: churn and fraud models, one in a monorepo folder."
commit models/churn.txt "churn model, first training"
tag churn@v1.0.0 "Registering artifact churn version v1.0.0"
tag "churn#dev#1" "Assigning stage dev to artifact churn version v1.0.0"
commit models/churn.txt "churn model, retrained"
tag churn@v1.1.0 "Registering artifact churn version v1.1.0"
tag "churn#dev#2" "Assigning stage dev to artifact churn version v1.1.0"
tag "churn#staging#3" "Assigning stage staging to artifact churn version v1.1.0"
tag "churn#prod#4" "Assigning stage prod to artifact churn version v1.1.0"
commit teams/risk/fraud.txt "fraud model"
tag "teams/risk=fraud@v0.1.0" "Registering artifact teams/risk:fraud version v0.1.0"
tag "teams/risk=fraud#staging#1" "Assigning stage staging to artifact teams/risk:fraud version v0.1.0"
commit models/churn.txt "churn model, rc"
tag churn@v1.2.0-rc.1 "Registering artifact churn version v1.2.0-rc.1"
tag "churn#prod#5" "Assigning stage prod to artifact churn version v1.2.0-rc.1"
tag "churn#prod!#6" "Unassigning stage 'prod' to artifact 'churn' version 'v1.2.0-rc.1'"
commit legacy/old.txt "an old model"
tag legacy@v0.0.1 "Registering artifact legacy version v0.0.1"
tag legacy@deprecated "Deprecating artifact 'legacy'"
git push -q origin main --tags

echo
echo "prod was given to v1.2.0-rc.1 and taken back: GTO falls back to the previous holder."
step stagetag show
step stagetag show churn
step stagetag show "churn#prod" --version
step stagetag show -d --name
step stagetag history churn
step stagetag check-ref "refs/tags/teams/risk=fraud#staging#1" --json
