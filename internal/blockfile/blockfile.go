package blockfile

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

const (
	// MaxBlockSize is Bitcoin Core's MAX_BLOCK_SERIALIZED_SIZE: a record
	// claiming more bytes is corrupt.
	MaxBlockSize = 4_000_000
	// MinBlockSize is the smallest record accepted: an 80-byte header and a
	// transaction count.
	MinBlockSize = 81

	recordHeaderSize = 8  // magic + size
	headerSize       = 80 // serialized block header
	keySize          = 8  // length of xor.dat

	// defaultBatchBytes and defaultBatchBlocks bound one read-ahead buffer
	// of Blocks; readAhead buffers exist at a time.
	defaultBatchBytes  = 8 << 20
	defaultBatchBlocks = 4096
	readAhead          = 3
)

// Options configures Open.
type Options struct {
	// Network is the network the files must belong to. Nil detects it from
	// the magic of the first record; every other record must carry the
	// same magic.
	Network *btc.Params
	// MaxHeight stops the chain at this height; below zero there is no
	// limit (so the zero value keeps only the genesis block: pass -1 for
	// the whole chain). The best chain is chosen over all blocks first,
	// then cut.
	MaxHeight int64
	// Logger receives a summary of the scan; nil discards.
	Logger *slog.Logger
	// Progress, if set, is called after each file of the header scan with
	// the number of files scanned, the number of files, and the record bytes
	// scanned so far.
	Progress func(filesDone, filesTotal int, bytes int64)
}

// Entry locates one block of the best chain.
type Entry struct {
	Height int64
	Hash   chainhash.Hash
	Header wire.BlockHeader
	File   int    // number NNNNN of the blkNNNNN.dat file holding the block
	Offset int64  // offset of the block bytes (after magic and size) in that file
	Size   uint32 // serialized size of the block
}

// Stats describes what a scan found. Records = Duplicates + Orphans + Stale
// + AboveMax + the length of the chain.
type Stats struct {
	Files      int   // blk*.dat files scanned
	Records    int   // block records found
	Duplicates int   // records of a block already seen (the first is used)
	Orphans    int   // blocks whose ancestry does not reach genesis
	Stale      int   // blocks descending from genesis but not on the best chain
	AboveMax   int   // best-chain blocks above Options.MaxHeight, left out
	Bytes      int64 // sum of the sizes of the chain's blocks
}

// Reader reads the best chain of a blocks directory. Its methods are safe
// for concurrent use.
type Reader struct {
	dir    string
	params *btc.Params
	key    xorKey
	files  []blkFile
	chain  []record // best chain, index = height
	stats  Stats
	closed atomic.Bool

	batchBytes  int
	batchBlocks int
}

// blkFile is one blkNNNNN.dat file.
type blkFile struct {
	num  int
	path string
}

// record is one block record as found by the scan. It holds no pointers,
// so a mainnet-sized slice of them costs the garbage collector nothing.
type record struct {
	hash chainhash.Hash
	hdr  [headerSize]byte
	off  int64 // offset of the block bytes
	file int32 // index into Reader.files
	size uint32
}

// Open lists the blk*.dat files of dir, reads xor.dat, scans the header of
// every record and builds the best chain. See the package documentation
// for the rules and the errors.
func Open(ctx context.Context, dir string, opt Options) (*Reader, error) {
	start := time.Now()
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	key, err := readKey(dir)
	if err != nil {
		return nil, err
	}
	r := &Reader{
		dir:         dir,
		key:         key,
		files:       files,
		batchBytes:  defaultBatchBytes,
		batchBlocks: defaultBatchBlocks,
	}
	if gaps := missingFiles(files); gaps != "" {
		log.Warn("blockfile: block files are missing", "dir", dir, "missing", gaps)
	}
	s := &scanner{
		r:      r,
		params: opt.Network,
		seen:   make(map[chainhash.Hash]int32),
		win:    make([]byte, scanWindow),
	}
	for i := range files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("blockfile: scan of %s stopped: %w", dir, err)
		}
		if err := s.scanFile(ctx, int32(i)); err != nil {
			return nil, err
		}
		if opt.Progress != nil {
			opt.Progress(i+1, len(files), s.bytes)
		}
	}
	if s.params == nil {
		return nil, fmt.Errorf("blockfile: %w: %s holds no block records (%d block files, all empty)", chain.ErrInvalid, dir, len(files))
	}
	r.params = s.params
	r.stats.Files = len(files)
	r.stats.Records = s.records
	r.stats.Duplicates = s.records - len(s.recs)
	if err := r.buildChain(s, opt.MaxHeight); err != nil {
		return nil, err
	}
	log.Info("blockfile: block files scanned", "dir", dir, "network", r.params.Network,
		"files", r.stats.Files, "records", r.stats.Records, "tip", len(r.chain)-1,
		"duplicates", r.stats.Duplicates, "stale", r.stats.Stale, "orphans", r.stats.Orphans,
		"above_max", r.stats.AboveMax, "obfuscated", !r.key.zero(), "took", time.Since(start).Round(time.Millisecond))
	return r, nil
}

// Params returns the network of the files.
func (r *Reader) Params() *btc.Params { return r.params }

// Dir returns the directory the reader was opened on.
func (r *Reader) Dir() string { return r.dir }

// Stats returns what the scan found.
func (r *Reader) Stats() Stats { return r.stats }

// Height returns the height of the chain's tip.
func (r *Reader) Height() int64 { return int64(len(r.chain)) - 1 }

// Entry returns the chain's block at height h.
func (r *Reader) Entry(h int64) (Entry, error) {
	if h < 0 || h >= int64(len(r.chain)) {
		return Entry{}, fmt.Errorf("blockfile: %w: height %d is not in the chain of %s (tip %d)", chain.ErrNotFound, h, r.dir, r.Height())
	}
	return r.entry(h), nil
}

// Chain returns the best chain from genesis in height order (index ==
// height). It builds a new slice on every call (about 170 bytes a block);
// Height and Entry are cheaper for single look-ups.
func (r *Reader) Chain() []Entry {
	out := make([]Entry, len(r.chain))
	for h := range out {
		out[h] = r.entry(int64(h))
	}
	return out
}

// Close releases the reader. Blocks and ReadBlock fail afterwards.
func (r *Reader) Close() error {
	r.closed.Store(true)
	return nil
}

func (r *Reader) entry(h int64) Entry {
	rec := &r.chain[h]
	return Entry{
		Height: h,
		Hash:   rec.hash,
		Header: parseHeader(&rec.hdr),
		File:   r.files[rec.file].num,
		Offset: rec.off,
		Size:   rec.size,
	}
}

// parseHeader decodes a serialized block header exactly as wire does.
func parseHeader(b *[headerSize]byte) wire.BlockHeader {
	var h wire.BlockHeader
	h.Version = int32(binary.LittleEndian.Uint32(b[0:4]))
	copy(h.PrevBlock[:], b[4:36])
	copy(h.MerkleRoot[:], b[36:68])
	h.Timestamp = time.Unix(int64(binary.LittleEndian.Uint32(b[68:72])), 0)
	h.Bits = binary.LittleEndian.Uint32(b[72:76])
	h.Nonce = binary.LittleEndian.Uint32(b[76:80])
	return h
}

// listFiles returns the blkNNNNN.dat files of dir in numeric order.
func listFiles(dir string) ([]blkFile, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("blockfile: %w", err)
	}
	var files []blkFile
	for _, de := range des {
		num, ok := blkNumber(de.Name())
		if !ok || de.IsDir() {
			continue
		}
		files = append(files, blkFile{num: num, path: filepath.Join(dir, de.Name())})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("blockfile: %w: %s holds no block files (blk*.dat)", chain.ErrInvalid, dir)
	}
	slices.SortFunc(files, func(a, b blkFile) int { return a.num - b.num })
	for i := 1; i < len(files); i++ {
		if files[i].num == files[i-1].num {
			return nil, fmt.Errorf("blockfile: %w: %s and %s are both block file number %d",
				chain.ErrInvalid, files[i-1].path, files[i].path, files[i].num)
		}
	}
	return files, nil
}

// blkNumber parses the number of a "blkNNNNN.dat" file name.
func blkNumber(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "blk")
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ".dat")
	if !ok || len(digits) == 0 || len(digits) > 9 {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

// missingFiles describes the gaps in the numbering of files, "" if none.
func missingFiles(files []blkFile) string {
	var gaps []string
	next := 0
	for _, f := range files {
		if f.num > next {
			gaps = append(gaps, fmt.Sprintf("blk%05d.dat..blk%05d.dat", next, f.num-1))
		}
		next = f.num + 1
	}
	return strings.Join(gaps, ", ")
}

// readKey reads the obfuscation key of dir/xor.dat.
func readKey(dir string) (xorKey, error) {
	path := filepath.Join(dir, "xor.dat")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return xorKey{}, nil
	}
	if err != nil {
		return xorKey{}, fmt.Errorf("blockfile: reading obfuscation key: %w", err)
	}
	if len(b) != keySize {
		return xorKey{}, fmt.Errorf("blockfile: %w: %s is %d bytes, want %d", chain.ErrInvalid, path, len(b), keySize)
	}
	return xorKey(b), nil
}

// xorKey is a block file obfuscation key: the byte at file offset o is
// XORed with key[o%8]. The zero key means no obfuscation.
type xorKey [keySize]byte

func (k *xorKey) zero() bool { return *k == xorKey{} }

// apply XORs b, which starts at file offset off, with the key; applying it
// twice restores b.
func (k *xorKey) apply(b []byte, off int64) {
	if k.zero() {
		return
	}
	var rot [keySize]byte
	for i := range rot {
		rot[i] = k[(off+int64(i))%keySize]
	}
	kv := binary.LittleEndian.Uint64(rot[:])
	i := 0
	for ; i+keySize <= len(b); i += keySize {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^kv)
	}
	for ; i < len(b); i++ {
		b[i] ^= rot[i%keySize]
	}
}
