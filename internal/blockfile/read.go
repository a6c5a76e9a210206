package blockfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

var errClosed = errors.New("blockfile: reader is closed")

// ReadBlock returns the raw, de-obfuscated bytes of the block e locates,
// in buf if it is large enough. It checks that the bytes read start with a
// header hashing to e.Hash.
func (r *Reader) ReadBlock(e Entry, buf []byte) ([]byte, error) {
	if r.closed.Load() {
		return nil, errClosed
	}
	i, ok := slices.BinarySearchFunc(r.files, e.File, func(f blkFile, num int) int { return f.num - num })
	if !ok {
		return nil, fmt.Errorf("blockfile: %w: block %s: %s has no file blk%05d.dat", chain.ErrNotFound, e.Hash, r.dir, e.File)
	}
	path := r.files[i].path
	if e.Size < MinBlockSize || e.Size > MaxBlockSize || e.Offset < recordHeaderSize {
		return nil, fmt.Errorf("blockfile: %w: %s offset %d: block %s: size %d or offset out of bounds", chain.ErrInvalid, path, e.Offset, e.Hash, e.Size)
	}
	if cap(buf) < int(e.Size) {
		buf = make([]byte, e.Size)
	}
	buf = buf[:e.Size]
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("blockfile: %w", err)
	}
	defer f.Close()
	n, err := f.ReadAt(buf, e.Offset)
	if n < len(buf) {
		if err == io.EOF {
			return nil, r.truncated(path, e.Offset, e.Height, e.Hash, e.Size, n)
		}
		return nil, fmt.Errorf("blockfile: reading block %s: %w", e.Hash, err)
	}
	r.key.apply(buf, e.Offset)
	if err := r.checkHash(path, e.Offset, e.Height, e.Hash, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func (r *Reader) truncated(path string, off, height int64, hash chainhash.Hash, size uint32, n int) error {
	return fmt.Errorf("blockfile: %w: %s offset %d: block %s at height %d is truncated: its record says %d bytes, the file holds %d",
		chain.ErrInvalid, path, off, hash, height, size, n)
}

func (r *Reader) checkHash(path string, off, height int64, want chainhash.Hash, raw []byte) error {
	if got := chainhash.DoubleHashH(raw[:headerSize]); got != want {
		return fmt.Errorf("blockfile: %w: %s offset %d: expected block %s at height %d, found %s (file changed since Open?)",
			chain.ErrInvalid, path, off, want, height, got)
	}
	return nil
}

// Blocks calls fn with every block of the chain from height from to the
// tip, in height order. raw is the de-obfuscated serialized block and is
// valid only until fn returns. A goroutine reads ahead while fn runs. An
// error from fn stops the iteration and is returned as is; a read error is
// returned after fn has seen every block before the bad one. from may be
// one past the tip (nothing to do).
func (r *Reader) Blocks(ctx context.Context, from int64, fn func(e Entry, raw []byte) error) error {
	if r.closed.Load() {
		return errClosed
	}
	end := int64(len(r.chain))
	if from < 0 || from > end {
		return fmt.Errorf("blockfile: %w: start height %d is outside the chain of %s (0..%d)", chain.ErrInvalid, from, r.dir, end-1)
	}
	if from == end {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	free := make(chan *batch, readAhead)
	full := make(chan *batch, readAhead)
	for range readAhead {
		free <- &batch{}
	}
	go r.produce(ctx, from, free, full)
	defer func() {
		cancel()
		for range full { // wait for the producer to close its files and exit
		}
	}()

	h := from
	for b := range full {
		for _, sp := range b.spans {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("blockfile: reading %s stopped before height %d: %w", r.dir, h, err)
			}
			if err := fn(r.entry(h), b.data[sp.start:sp.end]); err != nil {
				return err
			}
			h++
		}
		if b.err != nil {
			return b.err
		}
		free <- b
	}
	if h < end {
		return fmt.Errorf("blockfile: reading %s stopped before height %d: %w", r.dir, h, context.Cause(ctx))
	}
	return nil
}

// batch is a read-ahead buffer: consecutive blocks of the chain from
// height first, block i at data[spans[i].start:spans[i].end], then err.
type batch struct {
	first int64
	data  []byte
	spans []span
	err   error
}

type span struct{ start, end int }

// produce fills batches with the chain from height from until the end, an
// error or cancellation, then closes full.
func (r *Reader) produce(ctx context.Context, from int64, free <-chan *batch, full chan<- *batch) {
	defer close(full)
	fc := fileCache{r: r}
	defer fc.close()
	for h := from; h < int64(len(r.chain)); {
		var b *batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return
		}
		b.first, b.data, b.spans = h, b.data[:0], b.spans[:0]
		h, b.err = r.fill(b, h, &fc)
		select {
		case full <- b:
		case <-ctx.Done():
			return
		}
		if b.err != nil {
			return
		}
	}
}

// fill appends the blocks from height h to b until it is full, reading
// runs of adjacent records with one call. It returns the next height.
func (r *Reader) fill(b *batch, h int64, fc *fileCache) (int64, error) {
	end := int64(len(r.chain))
	for h < end && len(b.spans) < r.batchBlocks {
		first := &r.chain[h]
		room := r.batchBytes - len(b.data)
		if int(first.size) > room && len(b.spans) > 0 {
			break
		}
		start, stop := first.off, first.off+int64(first.size)
		k := h + 1
		for ; k < end && len(b.spans)+int(k-h) < r.batchBlocks; k++ {
			next := &r.chain[k]
			nstop := next.off + int64(next.size)
			if next.file != first.file || next.off != stop+recordHeaderSize || nstop-start > int64(room) {
				break
			}
			stop = nstop
		}
		f, err := fc.get(first.file)
		if err != nil {
			return h, err
		}
		base := len(b.data)
		n := int(stop - start)
		b.data = slices.Grow(b.data, n)[:base+n]
		buf := b.data[base:]
		m, err := f.ReadAt(buf, start)
		if m < n && err != io.EOF {
			return h, fmt.Errorf("blockfile: reading %s at offset %d: %w", r.files[first.file].path, start, err)
		}
		r.key.apply(buf[:m], start)
		for ; h < k; h++ {
			rec := &r.chain[h]
			s := int(rec.off - start)
			e := s + int(rec.size)
			path := r.files[rec.file].path
			if e > m {
				return h, r.truncated(path, rec.off, h, rec.hash, rec.size, max(m-s, 0))
			}
			if err := r.checkHash(path, rec.off, h, rec.hash, buf[s:e]); err != nil {
				return h, err
			}
			b.spans = append(b.spans, span{base + s, base + e})
		}
	}
	return h, nil
}

// fileCache keeps the last few files the producer read open, as blocks
// near a file boundary alternate between two files.
type fileCache struct {
	r    *Reader
	open []cachedFile
}

type cachedFile struct {
	file int32
	f    *os.File
}

const cachedFiles = 4

func (c *fileCache) get(file int32) (*os.File, error) {
	for _, cf := range c.open {
		if cf.file == file {
			return cf.f, nil
		}
	}
	f, err := os.Open(c.r.files[file].path)
	if err != nil {
		return nil, fmt.Errorf("blockfile: %w", err)
	}
	if len(c.open) == cachedFiles {
		c.open[0].f.Close()
		c.open = append(c.open[:0], c.open[1:]...)
	}
	c.open = append(c.open, cachedFile{file, f})
	return f, nil
}

func (c *fileCache) close() {
	for _, cf := range c.open {
		cf.f.Close()
	}
	c.open = nil
}
