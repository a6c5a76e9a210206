package index

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble"
)

// Table prefixes: the first byte of every key. Never renumber.
const (
	tMeta    = 0x00 // tMeta + name → metadata (tip, schema)
	tBlock   = 'b'  // tBlock + height(4) → block record
	tHash    = 'B'  // tHash + block hash(32) → height(4)
	tChunk   = 'x'  // tChunk + height(4) + chunk(2) → up to chunkTxs tx records (sorts last: see Writer)
	tTxid    = 't'  // tTxid + txid[0:6] + txkey(6) → (empty)
	tAddr    = 'A'  // tAddr + payload[0:6] + addrid(5) → (empty)
	tAddrRev = 'a'  // tAddrRev + addrid>>6 (5) → up to 64 address records
	tOut     = 'o'  // tOut + addrid(5) + txkey(8) + vout(3) → value [, spending txkey delta, vin]
)

const (
	chunkTxs   = 64 // transactions per chunk record
	posBits    = 20 // TxKey = height<<posBits | position
	maxPos     = 1<<posBits - 1
	addrIDLen  = 5
	txidPrefix = 6
	txKeyLen   = 6 // a TxKey in a key: heights below 2^28
	txidKeyLen = 1 + txidPrefix + txKeyLen
	addrPrefix = 6
	addrKeyLen = 1 + addrPrefix + addrIDLen
	addrChunk  = 64 // address records per chunk
	voutLen    = 3  // outputs per transaction < 2^24 (a 4 MB block holds < 450,000)
	outKeyLen  = 1 + addrIDLen + 8 + voutLen
)

// TxKey locates a transaction: height<<20 | position in its block.
type TxKey uint64

// MakeTxKey builds the key of the transaction at pos in block height.
func MakeTxKey(height int64, pos int) TxKey { return TxKey(uint64(height)<<posBits | uint64(pos)) }

// Height of the block holding the transaction.
func (k TxKey) Height() int64 { return int64(k >> posBits) }

// Pos is the position of the transaction in its block.
func (k TxKey) Pos() int { return int(k & maxPos) }

// AddrID is the dense id of an address; 0 means "no address".
type AddrID uint64

var (
	keyTip    = []byte{tMeta, 't', 'i', 'p'}
	keySchema = []byte{tMeta, 's', 'c', 'h', 'e', 'm', 'a'}
)

func putAddrID(b []byte, id AddrID) {
	b[0] = byte(id >> 32)
	binary.BigEndian.PutUint32(b[1:], uint32(id))
}

func getAddrID(b []byte) AddrID {
	return AddrID(b[0])<<32 | AddrID(binary.BigEndian.Uint32(b[1:]))
}

func blockKey(h int64) []byte {
	k := make([]byte, 5)
	k[0] = tBlock
	binary.BigEndian.PutUint32(k[1:], uint32(h))
	return k
}

func hashKey(hash []byte) []byte { return append([]byte{tHash}, hash...) }

func chunkKey(dst []byte, h int64, chunk int) []byte {
	dst = append(dst[:0], tChunk, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(dst[1:], uint32(h))
	binary.BigEndian.PutUint16(dst[5:], uint16(chunk))
	return dst
}

func txidKey(dst []byte, txid []byte, k TxKey) []byte {
	dst = append(dst[:0], tTxid)
	dst = append(dst, txid[:txidPrefix]...)
	return appendTxKey6(dst, k)
}

func appendTxKey6(dst []byte, k TxKey) []byte {
	return append(dst, byte(k>>40), byte(k>>32), byte(k>>24), byte(k>>16), byte(k>>8), byte(k))
}

func getTxKey6(b []byte) TxKey {
	return TxKey(b[0])<<40 | TxKey(b[1])<<32 | TxKey(b[2])<<24 | TxKey(b[3])<<16 | TxKey(b[4])<<8 | TxKey(b[5])
}

// addrKey is the lookup key of an address: its payload's first bytes (any
// kind: the record behind the id decides) and its id.
func addrKey(dst []byte, payload []byte, id AddrID) []byte {
	dst = append(dst[:0], tAddr)
	var p [addrPrefix]byte
	copy(p[:], payload)
	dst = append(dst, p[:]...)
	if id != 0 {
		var b [addrIDLen]byte
		putAddrID(b[:], id)
		dst = append(dst, b[:]...)
	}
	return dst
}

// addrChunkKey is the key of the chunk of address records holding id.
func addrChunkKey(dst []byte, chunk uint64) []byte {
	dst = append(dst[:0], tAddrRev, 0, 0, 0, 0, 0)
	putAddrID(dst[1:], AddrID(chunk))
	return dst
}

// firstOfChunk is the first address id stored in a chunk (ids start at 1).
func firstOfChunk(chunk uint64) AddrID { return max(1, AddrID(chunk*addrChunk)) }

// outKey is the key of output vout of the transaction at k, paying id.
func outKey(dst []byte, id AddrID, k TxKey, vout uint32) []byte {
	dst = append(dst[:0], tOut, 0, 0, 0, 0, 0)
	putAddrID(dst[1:], id)
	dst = binary.BigEndian.AppendUint64(dst, uint64(k))
	return append(dst, byte(vout>>16), byte(vout>>8), byte(vout))
}

func outPrefix(id AddrID) []byte {
	k := []byte{tOut, 0, 0, 0, 0, 0}
	putAddrID(k[1:], id)
	return k
}

// parseOutKey splits an output key.
func parseOutKey(k []byte) (id AddrID, key TxKey, vout uint32, ok bool) {
	if len(k) != outKeyLen || k[0] != tOut {
		return 0, 0, 0, false
	}
	v := k[1+addrIDLen+8:]
	return getAddrID(k[1:]), TxKey(binary.BigEndian.Uint64(k[1+addrIDLen:])), uint32(v[0])<<16 | uint32(v[1])<<8 | uint32(v[2]), true
}

// split tells pebble which leading part of a key its bloom filters cover,
// so that lookups of a txid prefix, an address, or an address's history
// skip every table that cannot hold them.
func split(key []byte) int {
	if len(key) == 0 {
		return 0
	}
	var n int
	switch key[0] {
	case tTxid:
		n = 1 + txidPrefix
	case tAddr:
		n = 1 + addrPrefix
	case tOut:
		n = 1 + addrIDLen
	default:
		return len(key)
	}
	if n > len(key) {
		return len(key)
	}
	return n
}

// comparer is bytewise order with split prefixes; its name is stored in
// the database and must never change.
var comparer = func() *pebble.Comparer {
	c := *pebble.DefaultComparer
	c.Split = split
	c.Name = "vestigo.index.v1"
	return &c
}()

// prefixUpperBound returns the smallest key greater than every key with
// the given prefix.
func prefixUpperBound(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
