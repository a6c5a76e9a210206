// Package tags is Vestigo's store of attribution tags: what public sources
// and analysts say about who is behind an address (or a transaction), each
// claim kept with where it came from. An investigator sees every tag of an
// address with its source, never one "best" tag: a court will ask where each
// came from.
//
// Concepts:
//
//   - A Tag attributes an address (or a tx_hash) of a currency to a label,
//     with the GraphSense fields: category (what kind of entity), abuse
//     (what criminal activity), source (a URL), confidence, creator, lastmod,
//     actor, context, is_public, is_cluster_definer. Every tag carries its
//     Pack and Line: the file it was imported from (name, format, SHA-256 of
//     the bytes, title) and the line in that file.
//   - A Pack is one imported file; it is known by its base name. Importing
//     the same name with the same content (SHA-256) again changes nothing;
//     a changed file replaces its pack's tags in one transaction. The pack
//     "user" holds tags added by analysts (AddUserTag), which ExportUserPack
//     writes out as a TagPack.
//   - Format says how a file is read: "tagpack" (GraphSense TagPack YAML,
//     whose header fields every tag inherits unless it overrides them),
//     "actorpack" (GraphSense ActorPack: the actors that tags' actor field
//     names, so a tag shows its actor's label), "ofac-xml" (OFAC
//     sdn_advanced.xml), "ofac-csv" (OFAC's legacy SDN.CSV and
//     SDN_COMMENTS.CSV, read together when imported together), "ofac-list"
//     (0xB10C's sanctioned_addresses_<TICKER>.txt), "csv"
//     (address,label,category,source[,confidence]) and "etherscan-csv"
//     (Etherscan's public name tags as scraped by brianleect/etherscan-labels,
//     ",Address,Name Tag,Balance,Txn Count", and dawsbot/eth-labels,
//     "address,nameTag"; one file per Etherscan label set). DetectFormat
//     tells them apart by name and content (CSVs by their header line).
//   - An etherscan-csv file makes ETH tags. Its label set comes from the file
//     name (etherscan_accounts_<set>.csv, mainnet_<set>_all.csv or
//     <set>.csv) and gives the category or abuse: exchanges' sets
//     (binance, coinbase, ...) are "exchange", tornado-cash and
//     ethereum-mixer "mixing_service", bridge "defi_bridge", mining
//     "mining_service", ofac-sanctions-lists the abuse "sanction", blocked
//     (frozen by stablecoin issuers) "black_list", phish-hack "hacking" when
//     the name tag says hack or exploit and "phishing" otherwise; a set
//     without a mapping gives neither, as the import's notes say. The label
//     is Etherscan's name tag ("Etherscan label: <set>" when there is
//     none), the source the address's etherscan.io page, the confidence
//     "web_crawl" (a third party's scrape, not authority data), and the
//     context the label set and, for brianleect's files, the balance and
//     transaction count shown when scraped.
//   - The confidence taxonomy is GraphSense's (graphsense-tagpack-tool
//     confidence.csv): ids from "ownership" (100) to "unknown" (5), see
//     ConfidenceLevel. A tag without confidence gets DefaultConfidence,
//     "unknown", as the GraphSense tool does. Categories, abuses and concepts
//     must be concepts of the GraphSense concepts taxonomy (the INTERPOL
//     DW-VA entity and abuse taxonomies, graphsense-lib concepts.yaml); an
//     unknown value is an error, as in the tagpack tool's validator.
//   - Sanctioned marks a tag from OFAC's lists (the three ofac formats),
//     a tag whose source is a US Treasury page (host treasury.gov or
//     *.treasury.gov, ofac.treas.gov or *.ofac.treas.gov), and a tag whose
//     category or abuse is the taxonomy's "sanction" concept (so also the
//     etherscan-csv tags of Etherscan's "OFAC Sanctions Lists" label, whose
//     web_crawl confidence tells them from OFAC's own). Nothing else.
//     OFAC tags have abuse "sanction", confidence "authority_data", the SDN
//     name as label and OFAC's page of the entry as source.
//   - Addresses are validated and stored in one form: Bitcoin addresses
//     must decode on one of Bitcoin's networks and are stored as the index
//     prints them (bech32 in lower case); ETH addresses must be 0x and 40 hex
//     digits, and every 0x+40-hex address is stored in lower case; written
//     in mixed case, the 0x addresses of ETH, USDT, USDC, ARB and BSC must
//     carry a right EIP-55 checksum (other chains' 0x checksums differ);
//     other currencies' addresses are kept as given after a sanity check
//     (printable, no spaces, 4..128 bytes). Queries are normalised the same
//     way (CheckQueryAddress): lower case, upper case and EIP-55 find the
//     same tags, and ByAddress refuses a 0x address in mixed case with a
//     wrong checksum (unless a published list gives exactly that text), so
//     that a typing error never screens clean. Analyst input (plain CSV,
//     AddUserTag) with an invalid address is rejected. A published list (TagPack, OFAC) is a
//     record of what its source said, and the real ones hold a few addresses
//     that do not validate (OFAC lists a TRON address as XBT and an ETH
//     address of 39 hex digits; GraphSense packs have mistyped BTC
//     addresses): such a tag is kept with the address as given, flagged in
//     AddressProblem and named with FILE:LINE in the file's notes, rather
//     than dropped or sinking the whole list. Text that cannot be an address
//     at all (empty, over 256 bytes, control characters) is an error anyway.
//   - AddressesWith gives the analysis layer address sets: the addresses of
//     a currency group whose tags have a concept or one below it (all
//     exchanges, mixers, bridges, sanctioned addresses). "ETH" is the group
//     of every 0x account, whatever chain or token its tag names.
//   - Conflicts (pure) flags tags of one address or cluster that disagree:
//     incompatible categories or abuses (exchange vs ransomware), different
//     actors.
//
// Hostile input: files above Options.MaxFileBytes are refused before they
// are read; YAML is parsed into a node tree only after an upper bound of its
// node count, computed from the raw bytes, is within Options.MaxYAMLNodes,
// and the tree is then walked: anchors and aliases (YAML bombs), nesting
// deeper than Options.MaxYAMLDepth and duplicate keys are rejected. XML is
// read with a streaming token loop (no entity expansion, bounded depth).
//
// Errors: bad input is rejected with an error wrapping chain.ErrInvalid
// (IsInvalid) that names the file and line, "tags: FILE:LINE: invalid BTC
// address "..."". A file with any error stores nothing; the other files of a
// folder still import, and Import's FileResults say per file what happened.
// ByAddress and CheckQueryAddress refuse a mistyped EIP-55 address, and
// AddressesWith an unknown concept, with errors wrapping chain.ErrInvalid.
// ExportUserPack returns an error wrapping chain.ErrNotFound when a creator
// has no user tags.
package tags
