#!/usr/bin/env bash
# make demo: generate the ransomware scenario on a private regtest chain,
# import it into a fresh data directory, check it, and print what to open.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
V="$ROOT/bin/vestigo"
DEMO="$ROOT/demo"
DATA="$DEMO/vestigo-data"
SEED=${DEMO_SEED:-7}

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
# investigator's API token, the ransom address as an item.
echo "== opening case DEMO-1 in demo/vestigo-data/cases.db (agency DEMO, admin 'admin', password 'demo admin password')"
export VESTIGO_NEW_PASSWORD="demo admin password"
"$V" --data "$DATA" agency add DEMO "Demo agency" --admin admin >/dev/null
export VESTIGO_USER=admin VESTIGO_PASSWORD="demo admin password"
token=$("$V" --data "$DATA" token create demo 2>/dev/null)
"$V" --data "$DATA" case create --ref DEMO-1 --title "Ransomware wave (generated)" --legal-basis "demo" >/dev/null
"$V" --data "$DATA" case add DEMO-1 "$ransom" --label "ransom address from the victim's report"
"$V" --data "$DATA" audit verify | tail -n 1
echo "$token" >"$DEMO/api-token.txt"
echo
echo "Team server (JSON API, OpenAPI at /api/v1/openapi.json):"
echo "  bin/vestigo --data demo/vestigo-data serve --addr 127.0.0.1:8080"
echo "  curl -H \"Authorization: Bearer \$(cat demo/api-token.txt)\" http://127.0.0.1:8080/api/v1/cases"
echo
echo "Every command takes --json. The ground truth of the scenario is in demo/chain/ground-truth.json."
