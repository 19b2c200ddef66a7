package websocket

import "encoding/binary"

// mask XORs b in place with the 4-byte masking key, starting at key offset
// pos, and returns the key offset for the byte that follows b.
func mask(key [4]byte, pos int, b []byte) int {
	pos, _ = maskOr(key, pos, b)
	return pos
}

// maskOr is mask that also returns the OR of the unmasked bytes: a text
// payload whose bytes all have the high bit clear is ASCII, hence valid
// UTF-8, with no second pass over it. Client frames are masked, so every
// received payload byte passes through here: it works a word at a time
// because a byte loop dominates read profiles of large messages.
func maskOr(key [4]byte, pos int, b []byte) (int, byte) {
	pos &= 3
	var or byte
	i := 0
	for ; i < len(b) && pos != 0; i++ {
		b[i] ^= key[pos]
		or |= b[i]
		pos = (pos + 1) & 3
	}
	if len(b)-i >= 8 {
		k := uint64(binary.LittleEndian.Uint32(key[:]))
		k |= k << 32
		var acc uint64
		for ; len(b)-i >= 32; i += 32 {
			s := b[i : i+32 : i+32]
			w0 := binary.LittleEndian.Uint64(s[0:]) ^ k
			w1 := binary.LittleEndian.Uint64(s[8:]) ^ k
			w2 := binary.LittleEndian.Uint64(s[16:]) ^ k
			w3 := binary.LittleEndian.Uint64(s[24:]) ^ k
			binary.LittleEndian.PutUint64(s[0:], w0)
			binary.LittleEndian.PutUint64(s[8:], w1)
			binary.LittleEndian.PutUint64(s[16:], w2)
			binary.LittleEndian.PutUint64(s[24:], w3)
			acc |= w0 | w1 | w2 | w3
		}
		for ; len(b)-i >= 8; i += 8 {
			w := binary.LittleEndian.Uint64(b[i:]) ^ k
			binary.LittleEndian.PutUint64(b[i:], w)
			acc |= w
		}
		acc |= acc >> 32
		acc |= acc >> 16
		acc |= acc >> 8
		or |= byte(acc)
	}
	// Words are a multiple of 4 bytes long, so pos is still 0 here.
	for ; i < len(b); i++ {
		b[i] ^= key[pos]
		or |= b[i]
		pos = (pos + 1) & 3
	}
	return pos, or
}
