// Package eth is Vestigo's adapter for Ethereum and other EVM chains: it
// reads a chain from a node's standard JSON-RPC interface (geth, Erigon,
// Nethermind, Reth) and turns every answer into checked, typed values for
// ingestion. It trusts nothing a node sends.
//
// Concepts:
//
//   - Address (20 bytes) and Hash (32 bytes). ParseAddress takes what an
//     investigator types: all-lower or all-upper hex as it is, mixed case
//     only when it is the EIP-55 checksum, so a typing error is caught.
//     Address.String is the EIP-55 form. Keccak and checksums come from
//     go-ethereum.
//   - Strict decoders: DecodeBlock (with full transactions and
//     withdrawals), DecodeTx, DecodeReceipt, DecodeLog, DecodeCallFrame
//     (geth's callTracer) and DecodeBlockTrace read json.RawMessage
//     member by member: required members present and not null, each of
//     the right JSON type, hex quantities with the 0x prefix and at most
//     2^256-1 (block numbers, gas, nonces at most 2^64-1), addresses of 20
//     and hashes of 32 bytes, arrays bounded, duplicate members refused.
//     Cross-checks catch answers that contradict themselves: a block's
//     transactions name the block and their position, a receipt's logs its
//     transaction, a failed transaction has no logs. CheckReceipts and
//     CheckTraces tie receipts and traces to their block. Amounts are
//     chain.Amount (wei, exact, 256 bits).
//   - ERC-20: TransferTopic and DecodeTransfer read token transfers from
//     logs (an ERC-721 Transfer, with its token id as a fourth topic, is not
//     one); DecodeTokenString (ABI string or an old token's bytes32),
//     DecodeDecimals and DecodeUint256 read eth_call results.
//   - InternalTransfers lists value moved inside transactions by CALL,
//     CREATE, CREATE2 and SELFDESTRUCT frames of a call trace, leaving out
//     failed frames and everything under them.
//   - Client speaks JSON-RPC through go-ethereum's rpc client, asks for
//     raw results and decodes them with the decoders above. Every request
//     has a timeout and every response a size limit. State is always read
//     at an explicit block number, so an answer can be reproduced.
//     BlockReceipts uses eth_getBlockReceipts and falls back, for good, to
//     one eth_getTransactionReceipt per transaction when the node lacks it
//     (ReceiptsMethod says which); TraceBlock reports supported=false when
//     the node has no debug_traceBlockByNumber. TokenMetadata reads name,
//     symbol and decimals each on its own and reports what a broken token
//     got wrong instead of failing.
//
// Errors: every error starts with "eth:" and is one line. Malformed input
// and malformed node answers wrap chain.ErrInvalid; a decoder's error is a
// *DecodeError naming what was decoded, the JSON path of the member and
// the problem ("eth: block 0x12: transactions[3].value: not a hex quantity
// (a JSON number)"). A block the node does not have wraps chain.ErrNotFound.
// A JSON-RPC error object from the node is an *RPCError (errors.As), with
// the revert data of a failed eth_call.
package eth
