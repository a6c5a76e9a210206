package blockfile

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

const (
	// scanWindow is the scan's read buffer. Where blocks are small it is
	// filled completely, so one read call serves many headers; after a large
	// block only scanPage bytes are read, so the scan skips block bodies
	// instead of reading them.
	scanWindow = 64 << 10
	scanPage   = 4 << 10
	smallBlock = 16 << 10
)

// scanner collects the records of all files.
type scanner struct {
	r       *Reader
	params  *btc.Params // nil until the first record when detecting
	recs    []record    // unique blocks in the order first seen
	seen    map[chainhash.Hash]int32
	records int   // all records, duplicates included
	bytes   int64 // record bytes scanned
	win     []byte
}

// scanFile reads the record and block headers of one file.
func (s *scanner) scanFile(ctx context.Context, fi int32) error {
	path := s.r.files[fi].path
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("blockfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("blockfile: %w", err)
	}
	size := st.Size()

	var (
		win    []byte // raw (still obfuscated) bytes of the file from winOff
		winOff int64
		pos    int64
		last   = 0 // size of the previous block
	)
	for n := 0; pos < size; n++ {
		if n%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("blockfile: scan of %s stopped at offset %d: %w", path, pos, err)
			}
		}
		need := min(int64(recordHeaderSize+headerSize), size-pos)
		if pos < winOff || pos+need > winOff+int64(len(win)) {
			want := int64(scanPage)
			if last < smallBlock {
				want = scanWindow
			}
			want = min(want, size-pos)
			win = s.win[:want]
			if m, err := f.ReadAt(win, pos); int64(m) < want {
				return fmt.Errorf("blockfile: reading %s at offset %d: read %d of %d bytes: %v", path, pos, m, want, err)
			}
			winOff = pos
		}
		var buf [recordHeaderSize + headerSize]byte
		m := copy(buf[:], win[pos-winOff:pos-winOff+need])
		// Core preallocates files, so their tail is zero on disk. A zero
		// magic after de-obfuscation also ends the records (a file
		// obfuscated as a whole). Checking the size bytes as well keeps a
		// record whose obfuscated magic happens to be zero.
		if allZero(buf[:min(m, recordHeaderSize)]) {
			return nil
		}
		s.r.key.apply(buf[:m], pos)
		if allZero(buf[:min(m, 4)]) {
			return nil
		}
		if m < 4 {
			return fmt.Errorf("blockfile: %w: %s offset %d: %d stray bytes at the end of the file (truncated record)", chain.ErrInvalid, path, pos, m)
		}
		if err := s.checkMagic([4]byte(buf[:4]), path, pos); err != nil {
			return err
		}
		if m < recordHeaderSize {
			return fmt.Errorf("blockfile: %w: %s offset %d: record header runs past the end of the file (%d bytes left)", chain.ErrInvalid, path, pos, m)
		}
		bsize := binary.LittleEndian.Uint32(buf[4:8])
		if bsize < MinBlockSize || bsize > MaxBlockSize {
			return fmt.Errorf("blockfile: %w: %s offset %d: record size %d is outside %d..%d", chain.ErrInvalid, path, pos, bsize, MinBlockSize, MaxBlockSize)
		}
		end := pos + recordHeaderSize + int64(bsize)
		if end > size {
			return fmt.Errorf("blockfile: %w: %s offset %d: record of %d bytes runs past the end of the file (%d bytes left; truncated)",
				chain.ErrInvalid, path, pos, bsize, size-pos-recordHeaderSize)
		}
		// end <= size and bsize >= 81, so buf holds the whole header.
		rec := record{off: pos + recordHeaderSize, file: fi, size: bsize}
		copy(rec.hdr[:], buf[recordHeaderSize:])
		rec.hash = chainhash.DoubleHashH(rec.hdr[:])
		s.records++
		s.bytes += end - pos
		if _, dup := s.seen[rec.hash]; !dup {
			if len(s.recs) >= 1<<31-1 {
				return fmt.Errorf("blockfile: %w: %s offset %d: more than %d blocks", chain.ErrInvalid, path, pos, 1<<31-1)
			}
			s.seen[rec.hash] = int32(len(s.recs))
			s.recs = append(s.recs, rec)
		}
		pos = end
		last = int(bsize)
	}
	return nil
}

// checkMagic checks a record's magic against the network, detecting the
// network from the first record if none was given.
func (s *scanner) checkMagic(magic [4]byte, path string, pos int64) error {
	if s.params != nil && magic == s.params.Magic {
		return nil
	}
	other, known := btc.ParamsByMagic(magic)
	switch {
	case s.params == nil && known:
		s.params = other
		return nil
	case s.params == nil:
		return fmt.Errorf("blockfile: %w: %s offset %d: unknown magic %x (not a block file of a supported network)", chain.ErrInvalid, path, pos, magic)
	case known:
		return fmt.Errorf("blockfile: %w: %s offset %d: magic %x is %s's, want %s's magic %x",
			chain.ErrInvalid, path, pos, magic, other.Network, s.params.Network, s.params.Magic)
	default:
		return fmt.Errorf("blockfile: %w: %s offset %d: unknown magic %x, want %s's magic %x",
			chain.ErrInvalid, path, pos, magic, s.params.Network, s.params.Magic)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
