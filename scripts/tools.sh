#!/usr/bin/env bash
# tools.sh installs the external programs that Vestigo's tests run against
# (real nodes, not mocks) into $ROOT/.tools/bin, where ROOT is the repository
# root. It is idempotent: a tool already installed at its pinned version is
# left alone, so a second run takes well under a second.
#
# Usage: scripts/tools.sh            install every tool
#        scripts/tools.sh btcd       install only the named tools
#
# Each tool is one install_<name> function; add new tools the same way and
# list them in ALL_TOOLS. Versions are pinned here and nowhere else.
set -eu

# --- pinned versions ---------------------------------------------------------
BTCD_VERSION=v0.26.2 # btcd and btcctl; `btcd --version` prints 0.26.2-beta

ALL_TOOLS="btcd"

# --- layout ------------------------------------------------------------------
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BIN="$ROOT/.tools/bin"

log() { printf 'tools.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_go() {
	command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to build $1)"
}

# --- btcd + btcctl -------------------------------------------------------------
install_btcd() {
	want=${BTCD_VERSION#v}
	if [ -x "$BIN/btcd" ] && [ -x "$BIN/btcctl" ]; then
		have=$("$BIN/btcd" --version 2>/dev/null || true)
		case "$have" in
		"btcd version $want"*)
			log "btcd $want already installed"
			return 0
			;;
		esac
		log "btcd in $BIN reports '${have:-nothing}', reinstalling $BTCD_VERSION"
	else
		log "installing btcd and btcctl $BTCD_VERSION"
	fi
	need_go btcd
	# go install refuses to overwrite a file it did not build.
	rm -f "$BIN/btcd" "$BIN/btcctl"
	# Built outside the module so that the repository's go.mod is untouched;
	# GOFLAGS from the caller (e.g. -mod=vendor) would not apply to @version.
	(
		cd "$ROOT/.tools" &&
			GOFLAGS=-buildvcs=false GOBIN="$BIN" go install \
				"github.com/btcsuite/btcd@$BTCD_VERSION" \
				"github.com/btcsuite/btcd/cmd/btcctl@$BTCD_VERSION"
	) || die "go install of btcd $BTCD_VERSION failed"
	have=$("$BIN/btcd" --version 2>/dev/null || true)
	case "$have" in
	"btcd version $want"*) log "installed: $have" ;;
	*) die "installed btcd reports '${have:-nothing}', want $want" ;;
	esac
}

# --- main --------------------------------------------------------------------
mkdir -p "$BIN"
tools=${*:-$ALL_TOOLS}
for t in $tools; do
	case " $ALL_TOOLS " in
	*" $t "*) "install_$t" ;;
	*) die "unknown tool '$t' (known: $ALL_TOOLS)" ;;
	esac
done
