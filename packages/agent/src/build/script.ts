/**
 * The build as one shell script, run detached in its own process group by the exec machinery (so
 * a cancel kills git, the build command and all their children, and a restarted agent adopts it).
 * Nothing the user gave is interpolated: the repository, ref and command arrive as environment
 * variables and are only ever quoted expansions. Each phase is written to a file first, so a
 * failure says whether fetching or building failed.
 */
import type { BuildSpec } from '@canopy/core';

export const BUILD_SCRIPT = `set -eu
exec 2>&1
cd "$CANOPY_BUILD_WORKSPACE"
echo fetch > phase
echo "canopy: fetching $CANOPY_BUILD_REF from $CANOPY_BUILD_REPO_SHOWN"
rm -rf src
git init -q src
cd src
git remote add origin "$CANOPY_BUILD_REPO"
git fetch --no-tags --quiet origin "$CANOPY_BUILD_REF"
git -c advice.detachedHead=false checkout -q --detach FETCH_HEAD
git rev-parse HEAD > ../commit.tmp && mv ../commit.tmp ../commit
echo "canopy: checked out $(cat ../commit)"
echo build > ../phase
echo "canopy: running the build command"
/bin/sh -c "$CANOPY_BUILD_COMMAND"
echo built > ../phase
`;

/** The repository URL with any password or token in it replaced, for the log. */
export function shownUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)([^/@]*)@/i, (_m, scheme: string, who: string) => `${scheme}${who.includes(':') ? `${who.split(':')[0]}:***` : who}@`);
}

/** The environment the script runs with: the build's own variables, then ours (which win). */
export function buildEnv(spec: BuildSpec, workspace: string): Record<string, string> {
  return {
    ...spec.env,
    CANOPY_BUILD_ID: String(spec.buildId),
    CANOPY_BUILD_WORKSPACE: workspace,
    CANOPY_BUILD_REPO: spec.repo,
    CANOPY_BUILD_REPO_SHOWN: shownUrl(spec.repo),
    CANOPY_BUILD_REF: spec.ref,
    CANOPY_BUILD_COMMAND: spec.command,
    CANOPY_BUILD_OUTPUT: spec.outputPath,
    // Never wait for a password nobody will type.
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o ConnectTimeout=20',
  };
}
