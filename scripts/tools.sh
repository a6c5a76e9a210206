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

ALL_TOOLS="btcd geth pypeers postgres openssl chromium poppler web"

# PostgreSQL for the case store's team deployment (the store suite runs on it
# as well as on SQLite), from Debian's apt; the tests start their own cluster.
POSTGRES_MAJOR=15

# Debian packages of the clustering peers and oracle (scipy, igraph,
# networkx for Debian's own /usr/bin/python3), from Debian's apt.
PYPEERS_PACKAGES="python3 python3-scipy python3-networkx python3-igraph"

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

# --- geth (go-ethereum) -----------------------------------------------------------
# The Ethereum node of the tests (geth --dev), at the go-ethereum version of
# go.mod, so that the node and the library Vestigo builds with agree.
install_geth() {
	want=$(awk '$1 == "github.com/ethereum/go-ethereum" {print $2}' "$ROOT/go.mod" | head -n 1)
	[ -n "$want" ] || die "go.mod names no github.com/ethereum/go-ethereum version"
	if [ -x "$BIN/geth" ]; then
		have=$("$BIN/geth" version 2>/dev/null | awk '/^Version:/ {print $2}')
		case "v$have" in
		"$want"-stable | "$want")
			log "geth $want already installed"
			return 0
			;;
		esac
		log "geth in $BIN reports '${have:-nothing}', reinstalling $want"
	else
		log "installing geth $want (go install; about two minutes the first time)"
	fi
	need_go geth
	rm -f "$BIN/geth"
	(
		cd "$ROOT/.tools" &&
			GOFLAGS=-buildvcs=false GOBIN="$BIN" go install "github.com/ethereum/go-ethereum/cmd/geth@$want"
	) || die "go install of geth $want failed"
	log "installed: geth $("$BIN/geth" version 2>/dev/null | awk '/^Version:/ {print $2}')"
}

# --- python3-scipy, python3-networkx, python3-igraph ---------------------------
# The connected-components peers of the clustering benchmark, and networkx the
# oracle of the clustering tests. Debian's python3 is /usr/bin/python3 (a
# python3 earlier on PATH may be another installation without these).
install_pypeers() {
	if /usr/bin/python3 -c 'import scipy.sparse.csgraph, networkx, igraph' 2>/dev/null; then
		log "python3-scipy, python3-networkx, python3-igraph already installed"
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 || die "apt-get is not available to install $PYPEERS_PACKAGES"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO="sudo"
	log "installing $PYPEERS_PACKAGES from Debian's apt"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y --no-install-recommends $PYPEERS_PACKAGES >/dev/null ||
		{ $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends $PYPEERS_PACKAGES >/dev/null; } ||
		die "apt-get install $PYPEERS_PACKAGES failed"
	/usr/bin/python3 -c 'import scipy.sparse.csgraph, networkx, igraph' || die "the python peers do not import after installing"
	log "installed: $(/usr/bin/python3 -c 'import scipy, networkx, igraph; print("scipy", scipy.__version__, "networkx", networkx.__version__, "igraph", igraph.__version__)')"
}

# apt_install installs Debian packages (as root, or with sudo).
apt_install() {
	command -v apt-get >/dev/null 2>&1 || die "apt-get is not available to install $*"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y --no-install-recommends "$@" >/dev/null ||
		{ $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends "$@" >/dev/null; } ||
		die "apt-get install $* failed"
}

# --- PostgreSQL ----------------------------------------------------------------
# Debian's package scripts do not start a cluster here (the tests run initdb
# and pg_ctl themselves in a temporary directory, on a free port).
install_postgres() {
	pgbin=/usr/lib/postgresql/$POSTGRES_MAJOR/bin
	if [ -x "$pgbin/initdb" ] && [ -x "$pgbin/pg_ctl" ]; then
		log "PostgreSQL $("$pgbin/pg_ctl" --version | awk '{print $3}') already installed"
		return 0
	fi
	log "installing postgresql-$POSTGRES_MAJOR from Debian's apt"
	apt_install "postgresql-$POSTGRES_MAJOR"
	[ -x "$pgbin/initdb" ] || die "postgresql-$POSTGRES_MAJOR installed no $pgbin/initdb"
	log "installed: $("$pgbin/pg_ctl" --version)"
}

# --- openssl (the local RFC 3161 time-stamping authority of the tests) ---------
install_openssl() {
	if command -v openssl >/dev/null 2>&1 && openssl ts -help >/dev/null 2>&1; then
		log "$(openssl version | cut -d' ' -f1-2) already installed"
		return 0
	fi
	log "installing openssl from Debian's apt"
	apt_install openssl
	openssl ts -help >/dev/null 2>&1 || die "openssl ts does not run after installing"
}

# --- Chromium (the browser of the workspace's end-to-end tests) ---------------
# Debian's package, driven by playwright-core; never a browser downloaded by a
# test tool.
install_chromium() {
	if [ -x /usr/bin/chromium ]; then
		log "$(/usr/bin/chromium --version 2>/dev/null | head -n 1) already installed"
		return 0
	fi
	log "installing chromium from Debian's apt"
	apt_install chromium
	[ -x /usr/bin/chromium ] || die "the chromium package installed no /usr/bin/chromium"
	log "installed: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
}

# --- poppler-utils (pdftotext, pdffonts, pdftoppm: the reports' PDF checks) --
# Debian's package: the report tests turn the rendered PDF into text, list its
# fonts and render its pages to PNG with it.
install_poppler() {
	if command -v pdftotext >/dev/null 2>&1 && command -v pdffonts >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then
		log "poppler-utils $(pdftotext -v 2>&1 | awk 'NR == 1 {print $3}') already installed"
		return 0
	fi
	log "installing poppler-utils from Debian's apt"
	apt_install poppler-utils
	command -v pdftotext >/dev/null 2>&1 || die "the poppler-utils package installed no pdftotext"
	log "installed: $(pdftotext -v 2>&1 | head -n 1)"
}

# --- web: the workspace's npm packages (esbuild, Cytoscape.js, playwright-core) -
# Exactly the versions of web/package-lock.json, from the npm registry, with
# Node.js and npm (Debian's nodejs and npm if the machine has none). npm ci
# runs again only when the lockfile changed since the last install.
install_web() {
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		log "installing nodejs and npm from Debian's apt"
		apt_install nodejs npm
	fi
	lock="$ROOT/web/package-lock.json"
	stamp="$ROOT/web/node_modules/.vestigo-lock.sha256"
	want=$(sha256sum "$lock" | cut -d' ' -f1)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		log "web packages already installed (node $(node --version))"
		return 0
	fi
	log "installing the web packages of web/package-lock.json (npm ci)"
	(cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in web/ failed"
	echo "$want" >"$stamp"
	log "installed: $(cd "$ROOT/web" && node -e 'for (const p of ["esbuild","cytoscape","playwright-core"]) process.stdout.write(p+" "+JSON.parse(require("fs").readFileSync("node_modules/"+p+"/package.json")).version+" ")')"
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
