#!/usr/bin/env bash
# make demo: generate the ransomware scenario on a private regtest chain,
# import it into a fresh data directory, check it, open a case with the
# ransom addresses, then start the web workspace and print its URL and login.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
V="$ROOT/bin/vestigo"
DEMO="$ROOT/demo"
DATA="$DEMO/vestigo-data"
SEED=${DEMO_SEED:-7}
# Where the workspace listens (DEMO_ADDR); DEMO_SERVE=0 prepares everything
# without starting the server.
ADDR=${DEMO_ADDR:-127.0.0.1:8080}

rm -rf "$DEMO"
mkdir -p "$DEMO"
echo "== generating the ransomware scenario (seed $SEED) into demo/chain"
"$V" generate btc --out "$DEMO/chain" --seed "$SEED" --scenario ransomware >"$DEMO/generate.txt"
head -n 2 "$DEMO/generate.txt"
echo
echo "== importing it into demo/vestigo-data"
"$V" --data "$DATA" import btc --blocks "$DEMO/chain"
echo
echo "== verifying the index"
"$V" --data "$DATA" index verify | tail -n 1
echo
# What an investigator knows at the start of the case (written by the
# generator): the victim's report names a ransom address, and the exchange
# answered a production order naming its hot wallet.
echo "== importing the case's known attributions (demo/chain/known-tags.csv)"
"$V" --data "$DATA" tags import "$DEMO/chain/known-tags.csv"
echo
# The heuristics' error rates on this chain, measured against the
# generator's truth and saved in demo/vestigo-data/evaluations: the
# methodology section of every report quotes them.
echo "== measuring the heuristics against the scenario's ground truth"
"$V" --data "$DATA" heuristics evaluate --ground-truth "$DEMO/chain/ground-truth.json" | tail -n 1
echo
# The scenario's story and the commands to follow the money, run against
# the demo's data directory.
sed -n '/^Scenario:/,$p' "$DEMO/generate.txt" | sed "s|  vestigo |  bin/vestigo --data demo/vestigo-data |"
echo
ransom=$(sed -n '2p' "$DEMO/chain/known-tags.csv" | cut -d, -f1)
echo "Attribution:"
echo "  bin/vestigo --data demo/vestigo-data cluster $ransom        # the attacker's entity and its tags"
echo "  bin/vestigo --data demo/vestigo-data tags ADDRESS           # every tag of an address and of its cluster"
echo "  bin/vestigo --data demo/vestigo-data cluster explain A B    # the transactions linking two addresses"
echo "  bin/vestigo --data demo/vestigo-data screen --file LIST     # screen a list of addresses"
echo "  bin/vestigo --data demo/vestigo-data heuristics evaluate --ground-truth demo/chain/ground-truth.json"
echo "Tracing:"
echo "  bin/vestigo --data demo/vestigo-data trace entity:$ransom --hops 8       # where the ransoms went"
echo "  bin/vestigo --data demo/vestigo-data patterns $ransom                    # typologies around an address"
echo
# A case in the embedded case store: an agency with its administrator, an
# investigator who logs in to the web workspace, an API token, and case
# DEMO-1 holding the ransom addresses of the victims' reports.
INVESTIGATOR=investigator
INVESTIGATOR_PASSWORD="demo investigator password"
echo "== opening case DEMO-1 in demo/vestigo-data/cases.db (agency DEMO)"
export VESTIGO_NEW_PASSWORD="demo admin password"
"$V" --data "$DATA" agency add DEMO "Demo agency" --admin admin >/dev/null
export VESTIGO_USER=admin VESTIGO_PASSWORD="demo admin password"
VESTIGO_NEW_PASSWORD="$INVESTIGATOR_PASSWORD" "$V" --data "$DATA" user add "$INVESTIGATOR" --role investigator >/dev/null
export VESTIGO_USER="$INVESTIGATOR" VESTIGO_PASSWORD="$INVESTIGATOR_PASSWORD"
token=$("$V" --data "$DATA" token create demo 2>/dev/null)
"$V" --data "$DATA" case create --ref DEMO-1 --title "Ransomware wave (generated)" --legal-basis "demo" >/dev/null
python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["ransomware"]["ransom_addresses"]))' \
	"$DEMO/chain/ground-truth.json" | while read -r addr; do
	"$V" --data "$DATA" case add DEMO-1 "$addr" --label "ransom address from a victim's report" >/dev/null
done
"$V" --data "$DATA" case show DEMO-1 >"$DEMO/case.txt"
head -n 2 "$DEMO/case.txt"
# Where the ransoms went, kept as a finding of the case.
"$V" --data "$DATA" trace "entity:$ransom" --hops 8 --case DEMO-1 --title "Where the ransoms went" >/dev/null
# The installation keys (they sign the audit log's checkpoints), under a
# demo passphrase; a real installation asks for one.
export VESTIGO_PASSPHRASE="demo installation passphrase"
"$V" --data "$DATA" keys init --agency "Demo agency" >/dev/null
# The court report of the case as it stands, recorded as an exhibit of it
# with the signed checkpoint that covers it (vestigo report verify checks a
# copy against the audit log).
"$V" --data "$DATA" report DEMO-1 -o "$DEMO/report-DEMO-1.pdf" | head -n 1
"$V" --data "$DATA" report DEMO-1 --format html -o "$DEMO/report-DEMO-1.html" | head -n 1
"$V" --data "$DATA" report verify "$DEMO/report-DEMO-1.pdf" | tail -n 1
export VESTIGO_USER=admin VESTIGO_PASSWORD="demo admin password"
"$V" --data "$DATA" audit verify | tail -n 1
echo "$token" >"$DEMO/api-token.txt"
unset VESTIGO_USER VESTIGO_PASSWORD VESTIGO_NEW_PASSWORD VESTIGO_PASSPHRASE
echo
echo "JSON API (OpenAPI at /api/v1/openapi.json), with the investigator's token:"
echo "  curl -H \"Authorization: Bearer \$(cat demo/api-token.txt)\" http://$ADDR/api/v1/cases"
echo "The case's report: demo/report-DEMO-1.pdf and .html (bin/vestigo --data demo/vestigo-data report DEMO-1 -o FILE)."
echo "Every command takes --json. The ground truth of the scenario is in demo/chain/ground-truth.json."
echo
if [ "${DEMO_SERVE:-1}" = 0 ]; then
	echo "Start the workspace with: bin/vestigo --data demo/vestigo-data serve --addr $ADDR"
	exit 0
fi
echo "================================================================================"
echo "  The web workspace:  http://$ADDR/"
echo "  Log in as:          $INVESTIGATOR / $INVESTIGATOR_PASSWORD"
echo "  The case's graph:   http://$ADDR/graph?case=1   (case DEMO-1 under Cases)"
echo "  Stop the server with Ctrl-C."
echo "================================================================================"
exec "$V" --data "$DATA" serve --addr "$ADDR" --checkpoint-every 0
