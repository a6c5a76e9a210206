package coinjoin

import "strconv"

// btc formats sats as BTC without trailing zeros: "0.1 BTC", "1 BTC",
// "0.00012345 BTC".
func btc(sats uint64) string {
	var b [40]byte
	out := strconv.AppendUint(b[:0], sats/100_000_000, 10)
	if frac := sats % 100_000_000; frac != 0 {
		var d [8]byte
		for i := 7; i >= 0; i-- {
			d[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := 8
		for d[n-1] == '0' {
			n--
		}
		out = append(out, '.')
		out = append(out, d[:n]...)
	}
	out = append(out, " BTC"...)
	return string(out)
}

// plural returns "1 input" or "3 inputs".
func plural(n int, word string) string {
	s := strconv.Itoa(n) + " " + word
	if n != 1 {
		s += "s"
	}
	return s
}
