// Package blockfile reads the block files of a Bitcoin Core data directory
// (the blocks/ folder: blk00000.dat, blk00001.dat, ...) for any network and
// yields the best chain's raw blocks in height order, without a running node
// and without Core's LevelDB block index.
//
// Concepts:
//
//   - A block file is a sequence of records: the network's 4 magic bytes, a
//     4-byte little-endian size, then the serialized block. Core preallocates
//     its files, so a file's tail is zero-filled; a zero magic ends the
//     records of a file and the rest of it is ignored. Files are read in
//     numeric order; other files of the directory (rev*.dat, index/) are not
//     block files.
//   - Core 28 and later obfuscate block files with the 8-byte key in
//     blocks/xor.dat: the byte at file offset o is XORed with key[o%8]. A
//     missing or all-zero xor.dat means no obfuscation. Every byte this
//     package hands out is de-obfuscated.
//   - Open scans every record: it reads the 8-byte record header and the
//     80-byte block header and skips the body. Blocks are written in arrival
//     order, not height order, so children may come before their parents,
//     even in an earlier file; forks that lost (stale blocks) and repeated
//     records are present too. From the headers Open builds the best chain
//     the way Core chooses it: from the network's genesis block along
//     prev-hash links to the tip with the most cumulative work (btc.Work of
//     each header's bits), the first seen tip winning a tie. Every header on
//     that chain must meet its own proof-of-work target
//     (btc.CheckProofOfWork). Difficulty retargeting, timestamps and block
//     contents are not validated here: the importer decodes every block with
//     btc.DecodeBlock, which checks the merkle root against the
//     transactions. Open may stop the chain at Options.MaxHeight.
//   - Stats accounts for every record: Records = Duplicates (a block seen
//     again, only its first record is used) + Orphans (ancestry does not
//     reach genesis) + Stale (reaches genesis but not on the best chain) +
//     AboveMax (on the best chain above MaxHeight) + the chain's length.
//   - Reader.Blocks streams the chain from a height to the tip. One goroutine
//     reads ahead into a few large buffers (bounded memory, about 24 MiB)
//     while the callback runs; runs of consecutive records are read with a
//     single read call. ReadBlock reads one block. Both check that the block
//     header read hashes to the entry's hash, so a file that changed after
//     Open is detected, never silently misread.
//
// Errors: malformed or inconsistent data (a magic of an unknown or another
// network, a record size outside 81..4,000,000 bytes, a record running past
// the end of its file, a missing genesis block, a header failing proof of
// work, a block on the chain shorter than its record says) is reported
// wrapping chain.ErrInvalid, with a "blockfile:" prefix, the file path and
// the offset, and where it applies the height and hash. I/O errors are
// wrapped with the file they concern. Cancelling the context stops Open and
// Blocks with an error wrapping the context's error.
//
// Do not read the files of a running node: Core appends to its current file
// and may leave a record half-written.
package blockfile
