#!/usr/bin/env bash
# The whole flow on a throwaway example: a repository with a bare remote, versions registered
# and stages assigned with stagetag (pushed, as the CI action does), the pushed tags
# dispatched to deployment jobs, and the registry that results.
set -euo pipefail

site="${DEMO_SITE:-$PWD/demo-site}"  # the dashboard is kept here after the demo
work=$(mktemp -d "${TMPDIR:-/tmp}/stagetag-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME="Demo User" GIT_AUTHOR_EMAIL="demo@example.com"
export GIT_COMMITTER_NAME="Demo User" GIT_COMMITTER_EMAIL="demo@example.com"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
commit() { mkdir -p "$(dirname "$1")"; echo "$2" > "$1"; git add -A; git commit -qm "$2"; git push -q origin main; }

git init -q --bare "$work/origin.git"
git init -q -b main "$work/repo"
cd "$work/repo"
git remote add origin "$work/origin.git"

# The project's config: what each stage deploys, and the promotion rules.
cat > stagetag.yaml <<'YAML'
deploy:
  stages:
    staging:
      deploy: ./deploy.sh {{ name }} {{ version }} {{ stage }} {{ path }}
    prod:
      environment: production
      deploy: ./deploy.sh {{ name }} {{ version }} {{ stage }} {{ path }}
      undeploy: ./undeploy.sh {{ name }} {{ stage }}
promotion:
  order: [staging, prod]
YAML
printf 'stages: [staging, prod]\n' > .gto
printf '#!/bin/sh\necho "  deploying: $*"\n' > deploy.sh
printf '#!/bin/sh\necho "  tearing down: $*"\n' > undeploy.sh
chmod +x deploy.sh undeploy.sh
mkdir -p teams/risk
printf 'artifacts:\n  fraud:\n    path: models/fraud.pkl\n    type: model\n    desc: Fraud detector\n' \
    > teams/risk/dvc.yaml
commit models/churn.txt "churn model, first training"

echo "A scratch repository at $work/repo with a bare remote; tags are pushed as CI would."
step stagetag register churn --push
step stagetag assign churn --stage staging --version v0.0.1 --push
step stagetag assign churn --stage prod --version v0.0.1 --push
commit models/churn.txt "churn model, retrained"
step stagetag assign churn --stage staging --push          # registers v0.0.2 first
echo
echo "The promotion order refuses prod for a version that skipped staging:"
commit models/churn.txt "churn model, untested"
step stagetag register churn --bump-minor --push
step stagetag assign churn --stage prod --version v0.1.0 --push || true
step stagetag assign churn --stage prod --version v0.0.2 --push
echo
echo "The same assignment as the CI action makes it (what 'uses: stagetag/stagetag@v1' runs in"
echo "its image): inputs from INPUT_*, outputs for the next steps in GITHUB_OUTPUT:"
outputs="$work/github_output"
: > "$outputs"
step env GITHUB_ACTIONS=true GITHUB_WORKSPACE="$PWD" GITHUB_OUTPUT="$outputs" \
    GITHUB_ACTOR=octocat INPUT_COMMAND=assign INPUT_NAME=teams/risk:fraud \
    INPUT_STAGE=staging INPUT_MESSAGE="first fraud model to staging" stagetag action
echo "GITHUB_OUTPUT now holds:"
grep -E '^(tag|event|version|pushed)<<' -A1 "$outputs" | grep -v -- '--' | paste - - | sed 's/<<.*\t/=/'

echo
echo "A pushed stage tag becomes deployment jobs (the dispatcher reads the tag, checks it is"
echo "still current, and renders jobs from stagetag.yaml):"
prod_tag=$(git tag --list 'churn#prod#*' --sort=-taggerdate | head -n 1)
step stagetag dispatch "refs/tags/$prod_tag" --format github
step stagetag dispatch "refs/tags/teams/risk=fraud#staging#1" --format gitlab
step stagetag dispatch "refs/tags/$prod_tag" --run

echo
echo "Rolling prod back unassigns v0.0.2; GTO semantics give prod back to v0.0.1:"
step stagetag rollback churn --stage prod --push
rollback_tag=$(git tag --list 'churn#prod!*' | head -n 1)
step stagetag dispatch "refs/tags/$rollback_tag" --run

echo
echo "A tag made and never pushed (a run killed before its push, or a write without --push)"
echo "is pushed by the next run that pushes, which says so, instead of 'Nothing to do':"
step stagetag assign churn --stage staging --version v0.1.0
step stagetag assign churn --stage staging --version v0.1.0 --push

echo
echo "The registry, as GTO would report it:"
step stagetag show
step stagetag show churn
step stagetag history churn
step stagetag history churn --stage prod                    # who held prod, from when to when
step stagetag show churn --at "$prod_tag"                   # churn as it stood at that tag
step stagetag check-ref "refs/tags/$prod_tag" --json
step stagetag show --md
step stagetag dashboard -o "$site"
echo "Open $site/index.html in a browser to see the registry dashboard."
