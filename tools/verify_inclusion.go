// verify_inclusion: an independent checker for Custos audit-log proofs, written against the
// published formats only (docs/audit.md; RFC 9162 §2.1, C2SP signed-note and
// tlog-checkpoint), with Go's standard library and no Custos code.
//
// Inclusion of an entry in a checkpointed tree:
//
//	go run tools/verify_inclusion.go -key KEY -checkpoint CHECKPOINT -entry ENTRY.json -proof PROOF.json
//
// Consistency of two checkpoints (the newer one extends the older, nothing rewritten):
//
//	go run tools/verify_inclusion.go -key KEY -old OLD_CHECKPOINT -new NEW_CHECKPOINT -consistency PROOF.json
//
// KEY is the log's verifier key "<name>+<hex key id>+<base64(0x01||public key)>", or a file
// holding it. CHECKPOINT is the signed checkpoint you kept; ENTRY the entry's exact bytes;
// PROOF the JSON printed by `custos audit prove` / `custos audit consistency`.
// Exit status: 0 verified, 1 not verified, 2 bad usage or unreadable input.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

type verifierKey struct {
	name   string
	keyID  uint32
	public ed25519.PublicKey
}

type checkpoint struct {
	origin string
	size   uint64
	root   []byte
}

// strictBase64 decodes standard base64 and refuses non-canonical encodings.
func strictBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("not canonical base64")
	}
	return b, nil
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if c <= 0x20 || c >= 0x7f || c == '+' {
			return false
		}
	}
	return true
}

func keyID(name string, public []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', 0x01})
	h.Write(public)
	return binary.BigEndian.Uint32(h.Sum(nil)[:4])
}

func parseVerifierKey(text string) (*verifierKey, error) {
	parts := strings.SplitN(strings.TrimSpace(text), "+", 3)
	if len(parts) != 3 || !validName(parts[0]) || len(parts[1]) != 8 {
		return nil, errors.New("want <name>+<8 hex key id>+<base64 key>")
	}
	id, err := hex.DecodeString(parts[1])
	if err != nil || strings.ToLower(parts[1]) != parts[1] {
		return nil, errors.New("bad key id")
	}
	raw, err := strictBase64(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x01 {
		return nil, errors.New("want base64 of 0x01 and a 32-byte Ed25519 key")
	}
	k := &verifierKey{name: parts[0], keyID: binary.BigEndian.Uint32(id), public: raw[1:]}
	if keyID(k.name, k.public) != k.keyID {
		return nil, errors.New("the key id does not match the name and key")
	}
	return k, nil
}

// openNote returns the text of a signed note that carries a valid signature by key.
func openNote(note []byte, key *verifierKey) (string, error) {
	s := string(note)
	if !strings.HasSuffix(s, "\n") {
		return "", errors.New("the note does not end with a newline")
	}
	for _, c := range []byte(s) {
		if (c < 0x20 && c != '\n') || c == 0x7f {
			return "", errors.New("the note has control characters")
		}
	}
	split := strings.LastIndex(s, "\n\n")
	if split < 0 {
		return "", errors.New("the note has no signatures")
	}
	text := s[:split+1]
	sigs := strings.Split(strings.TrimSuffix(s[split+2:], "\n"), "\n")
	verified := false
	for _, line := range sigs {
		if !strings.HasPrefix(line, "— ") {
			return "", errors.New("a signature line does not start with '— '")
		}
		fields := strings.SplitN(strings.TrimPrefix(line, "— "), " ", 2)
		if len(fields) != 2 || !validName(fields[0]) {
			return "", errors.New("malformed signature line")
		}
		blob, err := strictBase64(fields[1])
		if err != nil || len(blob) < 5 {
			return "", errors.New("a signature is not valid base64")
		}
		if fields[0] != key.name || binary.BigEndian.Uint32(blob[:4]) != key.keyID {
			continue // Another key's signature (a witness).
		}
		if len(blob) != 4+ed25519.SignatureSize || !ed25519.Verify(key.public, []byte(text), blob[4:]) {
			return "", fmt.Errorf("the signature by %s does not verify", key.name)
		}
		verified = true
	}
	if !verified {
		return "", fmt.Errorf("no signature by %s", key.name)
	}
	return text, nil
}

func openCheckpoint(note []byte, key *verifierKey) (*checkpoint, error) {
	text, err := openNote(note, key)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return nil, errors.New("a checkpoint needs origin, size and root lines")
	}
	if lines[0] != key.name {
		return nil, fmt.Errorf("origin %q is not the key's name %q", lines[0], key.name)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return nil, errors.New("bad tree size")
	}
	root, err := strictBase64(lines[2])
	if err != nil || len(root) != 32 {
		return nil, errors.New("bad root hash")
	}
	return &checkpoint{origin: lines[0], size: size, root: root}, nil
}

func leafHash(data []byte) []byte {
	h := sha256.Sum256(append([]byte{0x00}, data...))
	return h[:]
}

func nodeHash(left, right []byte) []byte {
	buf := append(append([]byte{0x01}, left...), right...)
	h := sha256.Sum256(buf)
	return h[:]
}

// rootFromInclusion is RFC 9162 §2.1.3.2.
func rootFromInclusion(index, size uint64, leaf []byte, proof [][]byte) ([]byte, error) {
	if index >= size {
		return nil, errors.New("index is not below the tree size")
	}
	fn, sn, r := index, size-1, leaf
	for _, p := range proof {
		if sn == 0 {
			return nil, errors.New("proof too long")
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return nil, errors.New("proof too short")
	}
	return r, nil
}

// verifyConsistency is RFC 9162 §2.1.4.2.
func verifyConsistency(size1, size2 uint64, proof [][]byte, root1, root2 []byte) error {
	switch {
	case size2 < size1:
		return errors.New("the new tree is smaller")
	case size1 == size2:
		if len(proof) != 0 || !bytes.Equal(root1, root2) {
			return errors.New("equal sizes need equal roots and an empty proof")
		}
		return nil
	case size1 == 0:
		if len(proof) != 0 {
			return errors.New("a proof from the empty tree must be empty")
		}
		return nil
	case len(proof) == 0:
		return errors.New("empty proof")
	}
	path := proof
	if size1&(size1-1) == 0 {
		path = append([][]byte{root1}, proof...)
	}
	fn, sn := size1-1, size2-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return errors.New("proof too long")
		}
		if fn&1 == 1 || fn == sn {
			fr = nodeHash(c, fr)
			sr = nodeHash(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = nodeHash(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return errors.New("proof too short")
	}
	if !bytes.Equal(fr, root1) || !bytes.Equal(sr, root2) {
		return errors.New("the roots do not match")
	}
	return nil
}

func decodeHashes(in []string) ([][]byte, error) {
	out := make([][]byte, 0, len(in))
	for _, s := range in {
		h, err := strictBase64(s)
		if err != nil || len(h) != 32 {
			return nil, errors.New("a proof hash is not base64 of 32 bytes")
		}
		out = append(out, h)
	}
	return out, nil
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify_inclusion:", err)
		os.Exit(2)
	}
	return b
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "verify_inclusion: NOT VERIFIED: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	keyArg := flag.String("key", "", "verifier key, or a file holding it")
	cpPath := flag.String("checkpoint", "", "the signed checkpoint you kept (inclusion)")
	entryPath := flag.String("entry", "", "the entry's exact bytes (inclusion)")
	proofPath := flag.String("proof", "", "inclusion proof JSON from `custos audit prove`")
	oldPath := flag.String("old", "", "the older signed checkpoint (consistency)")
	newPath := flag.String("new", "", "the newer signed checkpoint (consistency)")
	consPath := flag.String("consistency", "", "consistency proof JSON from `custos audit consistency`")
	flag.Parse()

	keyText := *keyArg
	if b, err := os.ReadFile(keyText); err == nil {
		keyText = string(b)
	}
	key, err := parseVerifierKey(keyText)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify_inclusion: bad -key:", err)
		os.Exit(2)
	}

	switch {
	case *cpPath != "" && *entryPath != "" && *proofPath != "":
		cp, err := openCheckpoint(readFile(*cpPath), key)
		if err != nil {
			fail("checkpoint: %v", err)
		}
		var proof struct {
			Index    *uint64  `json:"index"`
			TreeSize *uint64  `json:"tree_size"`
			LeafHash string   `json:"leaf_hash"`
			Proof    []string `json:"proof"`
		}
		if err := json.Unmarshal(readFile(*proofPath), &proof); err != nil || proof.Index == nil ||
			proof.TreeSize == nil {
			fmt.Fprintln(os.Stderr, "verify_inclusion: the proof is not inclusion-proof JSON")
			os.Exit(2)
		}
		if *proof.TreeSize != cp.size {
			fail("the proof is for tree size %d, the checkpoint for %d", *proof.TreeSize, cp.size)
		}
		leaf := leafHash(readFile(*entryPath))
		if proof.LeafHash != "" && proof.LeafHash != base64.StdEncoding.EncodeToString(leaf) {
			fail("the entry's leaf hash differs from the proof's")
		}
		hashes, err := decodeHashes(proof.Proof)
		if err != nil {
			fail("%v", err)
		}
		root, err := rootFromInclusion(*proof.Index, cp.size, leaf, hashes)
		if err != nil {
			fail("inclusion proof: %v", err)
		}
		if !bytes.Equal(root, cp.root) {
			fail("inclusion proof: the computed root differs from the checkpoint's")
		}
		fmt.Printf("OK: entry %d is in %s's tree of size %d (root %s), signed by key %08x\n",
			*proof.Index, cp.origin, cp.size, base64.StdEncoding.EncodeToString(cp.root), key.keyID)
	case *oldPath != "" && *newPath != "" && *consPath != "":
		c1, err := openCheckpoint(readFile(*oldPath), key)
		if err != nil {
			fail("old checkpoint: %v", err)
		}
		c2, err := openCheckpoint(readFile(*newPath), key)
		if err != nil {
			fail("new checkpoint: %v", err)
		}
		var proof struct {
			Size1 *uint64  `json:"size1"`
			Size2 *uint64  `json:"size2"`
			Proof []string `json:"proof"`
		}
		if err := json.Unmarshal(readFile(*consPath), &proof); err != nil || proof.Size1 == nil ||
			proof.Size2 == nil {
			fmt.Fprintln(os.Stderr, "verify_inclusion: the proof is not consistency-proof JSON")
			os.Exit(2)
		}
		if *proof.Size1 != c1.size || *proof.Size2 != c2.size {
			fail("the proof is for sizes %d..%d, the checkpoints are %d and %d", *proof.Size1,
				*proof.Size2, c1.size, c2.size)
		}
		hashes, err := decodeHashes(proof.Proof)
		if err != nil {
			fail("%v", err)
		}
		if err := verifyConsistency(c1.size, c2.size, hashes, c1.root, c2.root); err != nil {
			fail("consistency proof: %v", err)
		}
		fmt.Printf("OK: %s's tree of size %d extends its tree of size %d unchanged\n", c2.origin,
			c2.size, c1.size)
	default:
		flag.Usage()
		os.Exit(2)
	}
}
