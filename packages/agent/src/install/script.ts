/**
 * The install script the control center serves at /agent/install.sh, for fleets without internet
 * access: `curl -fsS URL/agent/install.sh | sh -s -- --token TOKEN` fetches the Node runtime and the
 * agent bundle from the control center (checked against the SHA-256s written in here), installs
 * them under a prefix, enrolls, and runs the agent under systemd where there is systemd.
 *
 * What the server writes in (its URL, the checksums) is validated here and single-quoted. What the
 * operator passes at run time (prefix, state dir, hostname, CA file, token) is checked by the script
 * against strict patterns before it is used, so no value ever reaches a shell word unquoted or a
 * generated file (the wrapper, the unit) with a character that means something there.
 */

/** What the script needs to know about the control center that serves it. */
export interface InstallScriptInput {
  /** The control center's URL as machines reach it: `http(s)://host[:port]`, no path. */
  url: string;
  /** SHA-256 (hex) of the agent bundle served at /agent/canopy-agent.mjs. */
  bundleSha256: string;
  /** SHA-256 (hex) of the Node runtime served at /agent/node. */
  nodeSha256: string;
}

const URL_RE = /^https?:\/\/([A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(:[0-9]{1,5})?$/;
const SHA_RE = /^[0-9a-f]{64}$/;

/** Quote `s` as one POSIX shell word. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Whether `url` is a control-center URL the script may carry (origin only, no user info, path or query). */
export function isInstallUrl(url: string): boolean {
  return URL_RE.test(url);
}

/** The install script for the control center at `input.url`; throws on a value it may not carry. */
export function renderInstallScript(input: InstallScriptInput): string {
  if (!isInstallUrl(input.url)) throw new Error(`not a control-center URL the install script can carry: ${JSON.stringify(input.url)}`);
  for (const [k, v] of [['bundleSha256', input.bundleSha256], ['nodeSha256', input.nodeSha256]] as const) {
    if (!SHA_RE.test(v)) throw new Error(`${k} is not a SHA-256 hex digest`);
  }
  return `#!/bin/sh
# Installs canopy-agent from the control center at ${input.url} and enrolls this machine.
#   curl -fsS ${input.url}/agent/install.sh | sh -s -- --token TOKEN [options]
set -eu

CANOPY_URL=${shellQuote(input.url)}
BUNDLE_SHA256=${shellQuote(input.bundleSha256)}
NODE_SHA256=${shellQuote(input.nodeSha256)}
PREFIX=/opt/canopy-agent
STATE_DIR=/var/lib/canopy-agent
TOKEN=
NAME=
CA=
START=1
INSECURE=
# Where systemd lives; the variables exist so a test can point them at a scratch directory.
SYSTEMD_RUN_DIR=\${CANOPY_SYSTEMD_RUN_DIR:-/run/systemd/system}
UNIT_DIR=\${CANOPY_SYSTEMD_UNIT_DIR:-/etc/systemd/system}

usage() {
  cat <<'USAGE'
usage: sh install.sh --token TOKEN [--prefix DIR] [--state-dir DIR] [--hostname NAME] [--ca FILE] [--insecure-http] [--no-start]
  --token       the install request's enrollment token (cne_...)
  --prefix      where the agent is installed (default /opt/canopy-agent)
  --state-dir   where its credential and tasks live (default /var/lib/canopy-agent)
  --hostname    the name to claim instead of the OS hostname
  --ca          PEM file of the CA that signed the control center's certificate
  --insecure-http  allow plain http:// to a control center that is not on loopback
  --no-start    install and enroll, but write no service and start nothing
USAGE
}
die() { echo "canopy-agent install: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --token) need "$@"; TOKEN=$2; shift 2 ;;
    --prefix) need "$@"; PREFIX=$2; shift 2 ;;
    --state-dir) need "$@"; STATE_DIR=$2; shift 2 ;;
    --hostname) need "$@"; NAME=$2; shift 2 ;;
    --ca) need "$@"; CA=$2; shift 2 ;;
    --insecure-http) INSECURE=--insecure-http; shift ;;
    --no-start) START=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# Every value below lands in a command line, the wrapper or the unit file: only safe characters.
[ -n "$TOKEN" ] || { usage >&2; die "--token is required"; }
case "$TOKEN" in *[!A-Za-z0-9_-]*) die "--token holds characters a token does not" ;; esac
for dir in "$PREFIX" "$STATE_DIR" "$UNIT_DIR"; do
  case "$dir" in /*) ;; *) die "$dir: --prefix, --state-dir (and the unit dir) must be absolute paths" ;; esac
  case "$dir" in *[!A-Za-z0-9._/-]*) die "$dir: only letters, digits and . _ / - in --prefix and --state-dir" ;; esac
done
case "$NAME" in *[!a-z0-9.-]*) die "--hostname must be lower-case letters, digits, dots and dashes" ;; esac
if [ -n "$CA" ]; then
  case "$CA" in *[!A-Za-z0-9._/-]*) die "--ca: only letters, digits and . _ / - in the path" ;; esac
  [ -r "$CA" ] || die "--ca $CA: not a readable file"
fi
command -v curl >/dev/null 2>&1 || die "curl is needed"

fetch() { # fetch PATH FILE SHA256
  curl -fsS \${CA:+--cacert "$CA"} -o "$2.part" "$CANOPY_URL$1" || die "could not fetch $CANOPY_URL$1"
  if command -v sha256sum >/dev/null 2>&1; then
    got=$(sha256sum "$2.part" | cut -d' ' -f1)
    [ "$got" = "$3" ] || { rm -f "$2.part"; die "$1: checksum $got, expected $3"; }
  fi
  mv -f "$2.part" "$2"
}

mkdir -p "$PREFIX/bin" "$PREFIX/lib"
fetch /agent/node "$PREFIX/bin/node" "$NODE_SHA256"
chmod 755 "$PREFIX/bin/node"
fetch /agent/canopy-agent.mjs "$PREFIX/lib/canopy-agent.mjs" "$BUNDLE_SHA256"
cat >"$PREFIX/bin/canopy-agent.part" <<EOF
#!/bin/sh
exec '$PREFIX/bin/node' '$PREFIX/lib/canopy-agent.mjs' "\\$@"
EOF
chmod 755 "$PREFIX/bin/canopy-agent.part"
mv -f "$PREFIX/bin/canopy-agent.part" "$PREFIX/bin/canopy-agent"
mkdir -p "$STATE_DIR"
chmod 700 "$STATE_DIR"

"$PREFIX/bin/canopy-agent" enroll --url "$CANOPY_URL" --token "$TOKEN" --state-dir "$STATE_DIR" --no-run \\
  \${NAME:+--hostname "$NAME"} \${CA:+--ca "$CA"} $INSECURE

RUN="$PREFIX/bin/canopy-agent run --state-dir $STATE_DIR \${CA:+--ca $CA} $INSECURE"
if [ "$START" = 1 ] && [ -d "$SYSTEMD_RUN_DIR" ]; then
  cat >"$UNIT_DIR/canopy-agent.service" <<EOF
[Unit]
Description=Canopy agent (control center $CANOPY_URL)
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=$RUN
Restart=always
RestartSec=2
# The tasks' processes outlive an agent restart: the agent resumes them.
KillMode=process

[Install]
WantedBy=multi-user.target
EOF
  systemctl daemon-reload
  systemctl enable --now canopy-agent.service
  echo "canopy-agent installed in $PREFIX and running (systemctl status canopy-agent)"
else
  echo "canopy-agent installed in $PREFIX and enrolled; run it with:"
  echo "  $RUN"
fi
`;
}
