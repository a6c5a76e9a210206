package api

import (
	"net/http"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// perm is what a route requires of the principal's role.
type perm int

const (
	permPublic   perm = iota // no credentials: /healthz and the login
	permRead                 // every role
	permAnnotate             // notes and tasks: admin, investigator, reviewer
	permWrite                // cases and their content: admin, investigator
	permAudit                // the audit log: admin, reviewer
	permAdmin                // users and other users' tokens: admin
)

func (p perm) String() string {
	switch p {
	case permPublic:
		return "public"
	case permRead:
		return "read"
	case permAnnotate:
		return "annotate"
	case permWrite:
		return "write"
	case permAudit:
		return "audit"
	case permAdmin:
		return "admin"
	}
	return "unknown"
}

// allows is the one authorisation rule of the API: which roles hold which
// permission. The store applies its own rules beneath (agency isolation,
// what a reviewer's note or task may be).
func (p perm) allows(r casestore.Role) bool {
	switch p {
	case permPublic, permRead:
		return r == casestore.RoleAdmin || r == casestore.RoleInvestigator || r == casestore.RoleReviewer || r == casestore.RoleReadOnly
	case permAnnotate:
		return r == casestore.RoleAdmin || r == casestore.RoleInvestigator || r == casestore.RoleReviewer
	case permWrite:
		return r == casestore.RoleAdmin || r == casestore.RoleInvestigator
	case permAudit:
		return r == casestore.RoleAdmin || r == casestore.RoleReviewer
	case permAdmin:
		return r == casestore.RoleAdmin
	}
	return false
}

// bodyKind is what a route reads from the request body.
type bodyKind int

const (
	bodyNone   bodyKind = iota
	bodyJSON            // one JSON object, at most Config.MaxBody bytes
	bodyUpload          // a file, multipart/form-data or raw, at most Config.MaxExhibit bytes
)

// route is one entry of the route table.
type route struct {
	method string
	path   string // net/http pattern path, e.g. /api/v1/tx/{txid}
	tag    string // OpenAPI group
	sum    string
	perm   perm
	params []param
	body   bodyKind
	// request names the JSON body's schema (see schemas in openapi.go).
	request string
	// status is the status of success; download marks a file response.
	status   int
	download bool
	// stream marks a text/event-stream response (server-sent events).
	stream bool
	handle func(*call) error
}

// success is the route's status of success.
func (rt *route) success() int {
	if rt.status == 0 {
		return http.StatusOK
	}
	return rt.status
}

const v1 = "/api/v1"

// table is the route table: the API as the mux serves it, as the
// middleware checks it and as the OpenAPI document describes it.
func (s *Server) table() []*route {
	caseID := pathID("case", "the case's id")
	page := []param{queryInt("limit", "entries per page", 1, maxPageSize, "100"), queryInt("offset", "entries to skip", 0, 1<<31-1, "0")}
	addr := pathStr("address", "a Bitcoin address (P2PK outputs under their P2PKH form, scripts as s-<sha256>) or an EVM address (0x, EIP-55 checked)")
	traceParams := []param{pathStr("from", "an address, entity:ADDRESS, entity:ID, a txid or TXID:VOUT"), networkParam,
		queryStr("direction", "forward or backward", "forward", "forward", "backward"),
		queryStr("model", "taint model", "haircut", "haircut", "fifo", "poison"),
		queryInt("hops", "transactions to follow", 1, maxTraceHops, "6"),
		queryInt("min_value", "drop tainted amounts below this many satoshis", 0, 1<<62, "0"),
		queryStr("since", "follow only transactions at or after this time (RFC 3339 or YYYY-MM-DD)", ""),
		queryStr("until", "follow only transactions at or before this time", ""),
		queryStr("stop_at", `comma-separated categories where funds stop ("none": never)`, "exchange,mixing_service,defi_bridge,sanctioned"),
		queryStr("level", "destinations per address or per entity", "address", "address", "entity"),
		queryInt("max_frontier", "outputs expanded per hop", 1, maxFrontier, "10000"),
		queryBool("follow_change", "follow only detected change (forward); other outputs are payments"),
		chainIDParam, queryStr("asset", "EVM traces: the asset (its id, a token contract or symbol; default the native coin)", ""),
		queryStr("amount", "EVM traces: follow only the first (backward: last) amount, in base units", ""),
		queryInt("from_block", "EVM traces: first block of the window", 0, 1<<62, "0"), queryInt("to_block", "EVM traces: last block (0: the tip)", 0, 1<<62, "0"),
		queryStr("change_confidence", "least consensus confidence of a change output (0.5 to 1)", "0.75")}
	rs := []*route{
		{method: "GET", path: "/healthz", tag: "server", sum: "Liveness: answers ok without credentials", perm: permPublic, handle: s.health},
		{method: "POST", path: v1 + "/login", tag: "session", sum: "Log in with a username and password: a session cookie and its CSRF token", perm: permPublic, body: bodyJSON, request: "Login", handle: s.login},
		{method: "POST", path: v1 + "/logout", tag: "session", sum: "End the session of the cookie", perm: permRead, status: http.StatusNoContent, handle: s.logout},
		{method: "GET", path: v1 + "/me", tag: "session", sum: "The authenticated principal, the user's language and the session's CSRF token", perm: permRead, handle: s.me},
		{method: "PUT", path: v1 + "/me/language", tag: "session", sum: "Keep your language of the web workspace (en, sq, mk, sr-Latn, sr-Cyrl)", perm: permRead,
			body: bodyJSON, request: "Language", status: http.StatusNoContent, handle: s.setLanguage},
		{method: "GET", path: v1 + "/openapi.json", tag: "server", sum: "This document", perm: permRead, handle: s.openAPIDoc},
		{method: "GET", path: v1 + "/status", tag: "chain", sum: "Each index's tip and counts", perm: permRead, handle: s.status},

		// Chain questions: vestigo tx, address, block, cluster, tags, screen.
		{method: "GET", path: v1 + "/tx/{txid}", tag: "chain", sum: "A transaction with its inputs' sources, its outputs' spends, tags, CoinJoin and change verdicts (vestigo tx --json)",
			perm: permRead, params: []param{pathStr("txid", "the transaction id (64 hex digits; 0x and 64 for an EVM transaction: its moves, fee and tags)"), networkParam, chainIDParam}, handle: s.tx},
		{method: "GET", path: v1 + "/address/{address}", tag: "chain", sum: "An address's totals and a page of its history (vestigo address --json)", perm: permRead,
			params: []param{addr, networkParam, chainIDParam, queryInt("limit", "history entries", 1, maxPageSize, "50"), queryInt("offset", "history entries to skip", 0, 1<<31-1, "0"),
				queryBool("newest_first", "list the history newest first"), queryBool("unspent", "also list the unspent outputs (Bitcoin)"),
				queryStr("asset", "an EVM address's ledger in one asset only (its id from holdings; 0 the native coin)", "")}, handle: s.address},
		{method: "GET", path: v1 + "/block/{block}", tag: "chain", sum: "A block by height or hash (vestigo block --json)", perm: permRead,
			params: []param{pathStr("block", "a height or a block hash"), networkParam, queryBool("txids", "list the block's transaction ids")}, handle: s.block},
		{method: "GET", path: v1 + "/search", tag: "chain", sum: "The search box: an address, txid, block, entity id, then tag labels and cases containing the text", perm: permRead,
			params: []param{queryStr("q", "what to look for (at most 200 bytes)", ""), networkParam, chainIDParam, queryInt("limit", "most results", 1, maxSearchResults, "8")}, handle: s.search},
		{method: "GET", path: v1 + "/entity/{id}", tag: "attribution", sum: "An entity by its id (entity:ID): the JSON of GET /cluster/{address}", perm: permRead,
			params: []param{pathID("id", "the entity's id"), networkParam, queryInt("limit", "addresses per page", 1, maxPageSize, "100"), queryInt("offset", "addresses to skip", 0, 1<<62, "0")}, handle: s.entityPage},
		{method: "GET", path: v1 + "/cluster/{address}", tag: "attribution", sum: "The entity of an address: cluster, totals, every tag (vestigo cluster --json)", perm: permRead,
			params: []param{addr, networkParam, queryInt("limit", "addresses per page", 1, maxPageSize, "100"), queryInt("offset", "addresses to skip", 0, 1<<62, "0")}, handle: s.cluster},
		{method: "GET", path: v1 + "/explain/{address1}/{address2}", tag: "attribution", sum: "The transactions that link two addresses into one cluster (vestigo cluster explain --json)", perm: permRead,
			params: []param{pathStr("address1", "an address"), pathStr("address2", "another address"), networkParam}, handle: s.explain},
		{method: "GET", path: v1 + "/tags/{address}", tag: "attribution", sum: "Every tag of an address and of its cluster (vestigo tags --json)", perm: permRead,
			params: []param{addr, networkParam}, handle: s.tags},
		{method: "POST", path: v1 + "/screen", tag: "attribution", sum: "Screen a list of addresses: tags, cluster tags, sanctioned (vestigo screen --json)", perm: permRead,
			body: bodyJSON, request: "Screen", handle: s.screen},

		// Analyses: vestigo trace, path, exposure, patterns, risk.
		{method: "GET", path: v1 + "/trace/{from}", tag: "analysis", sum: "Follow funds forward or backward from an address, a transaction or TXID:VOUT (vestigo trace --json)", perm: permRead,
			params: traceParams, handle: s.traceGet},
		{method: "GET", path: v1 + "/trace/{from}/events", tag: "analysis", sum: "The same trace as server-sent events: progress before each hop, then the result (or an error); closing the stream cancels it",
			perm: permRead, params: traceParams, stream: true, handle: s.traceEvents},
		{method: "POST", path: v1 + "/trace", tag: "analysis", sum: "A trace with its parameters in a JSON body (the fields of GET /trace/{from})", perm: permRead,
			body: bodyJSON, request: "Trace", handle: s.tracePost},
		{method: "GET", path: v1 + "/path/{from}/{to}", tag: "analysis", sum: "The k shortest money paths from one address or entity to another (vestigo path --json)", perm: permRead,
			params: []param{pathStr("from", "the first address, or entity:ADDRESS / entity:ID"), pathStr("to", "the last address or entity"), networkParam,
				queryInt("hops", "longest path in transactions", 1, maxPathHops, "6"), queryInt("k", "how many paths", 1, maxPathK, "3"),
				queryInt("max_fanout", "spending transactions read per address", 1, maxFanout, "1000"), chainIDParam}, handle: s.path},
		{method: "GET", path: v1 + "/deposits", tag: "analysis", sum: "Exchange deposit addresses on an EVM chain and the senders linked as one user (vestigo deposits --json)", perm: permRead,
			params: []param{chainIDParam, queryStr("hot", "comma-separated hot wallets (default: every address tagged exchange)", ""),
				queryInt("from_block", "first block", 0, 1<<62, "0"), queryInt("to_block", "last block (0: the tip)", 0, 1<<62, "0"),
				queryInt("max_sweep_blocks", "a sweep follows its deposit within this many blocks", 0, 1<<31-1, "300"),
				queryInt("max_residual_pct", "percent a sweep may leave behind", 0, 99, "1"), queryInt("min_sweeps", "sweeps an address needs", 0, 1000, "1")}, handle: s.deposits},
		{method: "GET", path: v1 + "/exposure/{address}", tag: "analysis", sum: "Incoming and outgoing exposure to each tag category (vestigo exposure --json)", perm: permRead,
			params: []param{addr, networkParam, chainIDParam, queryInt("hops", "transactions (EVM: moves) to follow each way", 1, maxTraceHops, "4")}, handle: s.exposure},
		{method: "GET", path: v1 + "/patterns", tag: "analysis", sum: "Typologies in an address's transactions or a block range (vestigo patterns --json)", perm: permRead,
			params: []param{queryStr("address", "an address (or from_height and to_height)", ""), networkParam,
				queryInt("from_height", "first block of the range", 0, 1<<31-1, ""), queryInt("to_height", "last block of the range", 0, 1<<31-1, ""),
				queryInt("min_peel_hops", "shortest peel chain reported", 2, 1000, "3"),
				queryInt("min_consolidation_inputs", "inputs of a consolidation", 2, 100_000, "10"),
				queryInt("min_fan_out", "outputs of a fan-out", 2, 100_000, "20"),
				queryInt("min_fan_in", "transactions paying one address within fan_in_blocks", 2, 100_000, "20"),
				queryInt("fan_in_blocks", "window of a fan-in", 1, maxPatternBlocks, "144"),
				queryInt("structuring_value", "reporting threshold in sats that structuring stays below", 1, 1<<50, "1000000"),
				queryInt("structuring_band", "how far below the threshold (percent) a transfer counts", 1, 99, "20"),
				queryInt("min_structured", "transfers just below the threshold that make structuring", 2, 100_000, "5"),
				queryInt("pass_blocks", "blocks within which funds must leave to pass through", 1, maxPatternBlocks, "6"),
				queryInt("min_pass_transfers", "incoming transfers of a pass-through address", 2, 100_000, "3"),
				queryInt("max_residual", "percent of the funds a pass-through address may keep", 1, 99, "5"),
				queryInt("chain_id", "run the EVM detectors on this chain's blocks from_height..to_height", 0, 1<<62, "0")}, handle: s.patternsQuery},
		{method: "GET", path: v1 + "/risk/{address}", tag: "analysis", sum: "An explainable risk score with the default weights (vestigo risk --json)", perm: permRead,
			params: []param{addr, networkParam, chainIDParam}, handle: s.riskGet},
		{method: "POST", path: v1 + "/risk", tag: "analysis", sum: "A risk score with weights in the body (vestigo risk --weights)", perm: permRead,
			body: bodyJSON, request: "Risk", handle: s.riskPost},

		// Court reports (report.go): render a case's report and record it as an
		// exhibit; verify a report file against the audit log.
		{method: "POST", path: v1 + "/cases/{case}/report", tag: "reports", sum: "Render the case's report (pdf or html, in en, sq, mk, sr or sr-Latn) and record it as an exhibit; download it through the exhibit content route",
			perm: permWrite, params: []param{caseID}, body: bodyJSON, request: "NewReport", status: http.StatusCreated, handle: s.createReport},
		{method: "POST", path: v1 + "/reports/verify", tag: "reports", sum: "Verify a report file (the raw body): the exhibit with its SHA-256, its time-stamp, the audit log and the checkpoint covering it",
			perm: permRead, body: bodyUpload, handle: s.verifyReport},

		// Exports (export.go): a table, a saved graph or a finding written for
		// other tools and kept as an exhibit of the case.
		{method: "POST", path: v1 + "/cases/{case}/exports", tag: "exhibits", sum: "Export a table (csv, xlsx), a saved graph exhibit (graphml, gexf) or a finding (json, csv, xlsx) and keep it as an exhibit of the case (hashed, time-stamped, audited); download it through the exhibit content route",
			perm: permWrite, params: []param{caseID}, body: bodyJSON, request: "NewExport", status: http.StatusCreated, handle: s.createExport},
	}
	return append(rs, s.caseRoutes(caseID, page)...)
}
