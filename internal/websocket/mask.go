package websocket

import "encoding/binary"

// mask XORs b in place with the 4-byte masking key, starting at key offset
// pos, and returns the key offset for the byte that follows b. Client frames
// are masked, so every received payload byte passes through here: it works a
// word at a time because a byte loop dominates read profiles of large messages.
func mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	i := 0
	for ; i < len(b) && pos != 0; i++ {
		b[i] ^= key[pos]
		pos = (pos + 1) & 3
	}
	if len(b)-i >= 8 {
		k := uint64(binary.LittleEndian.Uint32(key[:]))
		k |= k << 32
		for ; len(b)-i >= 32; i += 32 {
			s := b[i : i+32 : i+32]
			binary.LittleEndian.PutUint64(s[0:], binary.LittleEndian.Uint64(s[0:])^k)
			binary.LittleEndian.PutUint64(s[8:], binary.LittleEndian.Uint64(s[8:])^k)
			binary.LittleEndian.PutUint64(s[16:], binary.LittleEndian.Uint64(s[16:])^k)
			binary.LittleEndian.PutUint64(s[24:], binary.LittleEndian.Uint64(s[24:])^k)
		}
		for ; len(b)-i >= 8; i += 8 {
			binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k)
		}
	}
	// Words are a multiple of 4 bytes long, so pos is still 0 here.
	for ; i < len(b); i++ {
		b[i] ^= key[pos]
		pos = (pos + 1) & 3
	}
	return pos
}
